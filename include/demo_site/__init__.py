"""The bundled demo newsroom: three fictional outlets served on loopback.

Everything is generated on the fly from a seeded RNG per outlet and day, so the
pages, feeds and archives are identical on every run. ``demo_site.catalog`` is the
ground truth the pipeline's output is compared with.
"""
