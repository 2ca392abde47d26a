# newslake on Airflow's official image, installed from the pinned export of uv.lock.
FROM apache/airflow:3.3.2-python3.12
COPY --chown=airflow:root requirements.txt /opt/newslake/requirements.txt
RUN pip install --no-cache-dir -r /opt/newslake/requirements.txt
COPY --chown=airflow:root pyproject.toml README.md /opt/newslake/
COPY --chown=airflow:root include /opt/newslake/include
RUN pip install --no-cache-dir --no-deps /opt/newslake
COPY --chown=airflow:root dags /opt/airflow/dags
COPY --chown=airflow:root plugins /opt/airflow/plugins
ENV NEWSLAKE_OUTLETS_DIR=/opt/newslake/include/outlets
# Mount points of the named volumes (docker-compose.yaml): a new volume takes the owner and
# mode of its folder in the image, group 0 writable for any AIRFLOW_UID.
RUN mkdir -p /opt/airflow/auth /opt/airflow/lake && chmod g+rwx /opt/airflow/auth /opt/airflow/lake
