"""English news prose from templates, for the Bayside Press and the Metro Ledger."""

from __future__ import annotations

import random
from dataclasses import dataclass

from demo_site.text import Deck, Piece, Topic, cap, count_words, fill, title_case

MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class EnglishDesk:
    places: tuple[str, ...]
    orgs: tuple[str, ...]
    sections: dict[str, tuple[Topic, ...]]
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    currency: str
    institute: str
    residents_group: str
    sentence_case_titles: bool


BAYSIDE = EnglishDesk(
    places=("Bayside", "Harbor Point", "Pelican Shores", "Cypress Landing", "Palmetto Springs",
            "Gulf Haven", "Mangrove Key"),
    orgs=("the Bayside City Council", "the Pinellas Bay County Commission",
          "the Harbor Point Planning Board", "the Bayside Port Authority",
          "the county school board", "the regional transit authority"),
    sections={
        "Local News": (Topic("the seawall repair project", "Seawall"),
                       Topic("the downtown parking plan", "Parking"),
                       Topic("the new ferry route", "Ferry"),
                       Topic("the library expansion", "Libraries"),
                       Topic("the stormwater drainage upgrade", "Flooding")),
        "Politics": (Topic("the proposed property tax increase", "Taxes"),
                     Topic("the city budget", "Budget"),
                     Topic("the redistricting plan", "Redistricting"),
                     Topic("the ethics reform package", "Ethics"),
                     Topic("the vacation rental ordinance", "Vacation Rentals")),
        "Business": (Topic("the waterfront hotel project", "Development"),
                     Topic("the new boatbuilding plant", "Jobs"),
                     Topic("the downtown office tower", "Real Estate"),
                     Topic("the small business grant program", "Small Business"),
                     Topic("the port expansion", "Port")),
        "Education": (Topic("the school start time change", "Schools"),
                      Topic("the teacher pay agreement", "Teachers"),
                      Topic("the new magnet school", "Magnet Schools"),
                      Topic("the school bus contract", "School Buses"),
                      Topic("the campus security upgrade", "School Safety")),
        "Environment": (Topic("the mangrove restoration plan", "Mangroves"),
                        Topic("the beach renourishment project", "Beaches"),
                        Topic("the red tide monitoring program", "Red Tide"),
                        Topic("the tree canopy ordinance", "Trees"),
                        Topic("the septic to sewer conversion", "Water Quality")),
    },
    first_names=("Maria", "James", "Linda", "Robert", "Carmen", "David", "Angela", "Marcus",
                 "Teresa", "Kevin", "Diane", "Luis", "Patricia", "Brian", "Yolanda", "Greg"),
    last_names=("Lopez", "Whitaker", "Nguyen", "Castillo", "Brennan", "Okafor", "Delgado",
                "Hargrove", "Sutton", "Ramirez", "Pham", "Coleman", "Fitzgerald", "Vega"),
    currency="$",
    institute="Gulf Coast State University",
    residents_group="Neighborhood Association",
    sentence_case_titles=False,
)

METRO = EnglishDesk(
    places=("Hackney", "Lewisham", "Croydon", "Camden", "Southwark", "Ealing", "Islington",
            "Greenwich"),
    orgs=("Transport for London", "the Greater London Authority", "Southwark Council",
          "the borough council", "the local NHS trust", "the London Assembly"),
    sections={
        "London": (Topic("the high street regeneration scheme", "Regeneration"),
                   Topic("the estate renewal plan", "Housing estates"),
                   Topic("the new cycle superhighway", "Cycling"),
                   Topic("the market redevelopment", "Markets"),
                   Topic("the library closures", "Libraries")),
        "Politics": (Topic("the council tax rise", "Council tax"),
                     Topic("the mayoral housing pledge", "Housing"),
                     Topic("the clean air zone expansion", "Clean air zone"),
                     Topic("the budget consultation", "Budget"),
                     Topic("the planning reforms", "Planning")),
        "Business": (Topic("the riverside office scheme", "Property"),
                     Topic("the business rates relief", "Business rates"),
                     Topic("the night time economy plan", "Nightlife"),
                     Topic("the new tech hub", "Technology"),
                     Topic("the shopping centre sale", "Retail")),
        "Transport": (Topic("the Overground upgrade", "Overground"),
                      Topic("the night bus cuts", "Buses"),
                      Topic("the step free access programme", "Accessibility"),
                      Topic("the river crossing plan", "River crossings"),
                      Topic("the station rebuild", "Rail")),
        "Environment": (Topic("the air quality action plan", "Air quality"),
                        Topic("the river clean up", "Thames"),
                        Topic("the tree planting programme", "Trees"),
                        Topic("the flood defence works", "Flooding"),
                        Topic("the food waste collections", "Recycling")),
    },
    first_names=("Amelia", "Oliver", "Priya", "Tom", "Hannah", "Kwame", "Sophie", "Rhys",
                 "Fatima", "George", "Niamh", "Dev", "Charlotte", "Samuel", "Aisha", "Callum"),
    last_names=("Okonkwo", "Hughes", "Patel", "Brennan", "Whitfield", "Morgan", "Ahmed",
                "Lloyd", "Ellison", "Chowdhury", "Barker", "Kowalski", "Reid", "Osei"),
    currency="£",
    institute="the Thames Policy Institute",
    residents_group="Residents' Forum",
    sentence_case_titles=True,
)

HEADLINES = (
    "{Org} approves {topic} after heated debate",
    "{place} residents push back against {topic}",
    "Officials unveil cost estimate for {topic}",
    "{topic} faces new delay as costs climb",
    "What to know about {the_topic} in {place}",
    "Vote on {topic} set for {next_weekday}",
    "{place} leaders split over {topic}",
    "Audit raises questions about {topic}",
    "Critics say {topic} leaves {place} behind",
    "{Org} backs revised {topic}",
)
DESCRIPTIONS = (
    "{Org} has moved ahead with {the_topic}, but residents in {place} say key questions "
    "remain unanswered.",
    "Officials say {the_topic} will change daily life in {place}. Here is what we know so far.",
    "The decision on {the_topic} follows months of debate and a string of critical reports.",
)
LEDES = (
    "{org} on {weekday} approved {the_topic}, a decision that could affect thousands of "
    "residents in {place}.",
    "Officials in {place} are weighing {the_topic} after months of public meetings and a "
    "series of critical reports.",
    "{org} moved ahead on {weekday} with {the_topic}, despite objections from several "
    "community groups.",
    "A long running dispute over {the_topic} reached a turning point on {weekday}, when {org} "
    "backed the plan in a {vote} vote.",
)
FACTS = (
    "The plan calls for spending about {cur}{n} million over the next {k} years.",
    "According to a staff report, the work would be paid for with a mix of state grants and "
    "local fees.",
    "Supporters say the project will create roughly {jobs} jobs and ease pressure on existing "
    "services.",
    "Critics argue that the estimate leaves out maintenance costs, which could add {pct} "
    "percent to the total.",
    "The first phase is expected to begin in {month}, with work continuing for at least {k} "
    "years.",
    "Similar efforts in {place2} were completed ahead of schedule last year.",
    "{org2} has asked for a more detailed timeline before committing any money.",
    "The proposal was first presented to the public last spring, when it drew more than "
    "{crowd} comments.",
    "Officials said the figures could change once contracts are put out to bid.",
    "Under the current schedule, residents would see the first changes by the end of {month}.",
    "Several business owners in {place} said they had not been consulted.",
    "Traffic on nearby streets is expected to be affected while the work is under way.",
    "The {vote} vote followed nearly {hours} hours of public comment.",
    "An independent review commissioned last year found that the work was long overdue.",
    "The agency plans to publish monthly progress reports on its website.",
    "Residents can submit written comments until {month} {day_num}.",
    "A public hearing on the details is scheduled for next {next_weekday} evening at {place} "
    "town hall.",
    "Local groups have started a petition that has gathered about {crowd} signatures.",
    "The {place} {group} has asked for regular updates at its monthly meetings.",
    "Staff told members that about {pct} percent of the money has already been set aside.",
    "A consultant hired by {org2} is expected to report back within {k} months.",
    "The last comparable project in the area took {k} years to complete.",
    "Officials promised that no homes would be demolished as part of the plan.",
    "Bus routes serving the area will be adjusted during the first phase.",
    "Insurance costs and higher interest rates have pushed the estimate up by {pct} percent "
    "since last year.",
    "Members asked staff to return with options that would cost less.",
    "Data collected by the city shows complaints about the issue have doubled in {k} years.",
    "Opponents said they would consider a legal challenge if the plan goes ahead unchanged.",
)
QUOTES = (
    "We have waited a long time for this, and residents deserve a clear answer",
    "This is about making sure the money is spent where it is needed most",
    "Nobody is pretending this will be easy, but doing nothing is not an option",
    "We heard the concerns, and we changed the plan to reflect them",
    "I still have questions about how this will be paid for",
    "The numbers simply do not add up for the families I represent",
    "This is the kind of investment that pays off for decades",
    "We want people to see real progress, not just another report",
    "My customers have been asking about this for months",
    "If we get this wrong, we will be living with it for a generation",
)
VERDICTS = ("long overdue", "a step in the right direction", "rushed and poorly explained",
            "a fair compromise", "the most important vote this year", "a missed opportunity")
ROLES = ("a spokesperson for {org}", "a member of {org}", "the director of public works",
         "who owns a bakery in {place}", "a resident of {place} for {years} years",
         "an economist at {institute}", "president of the {place} {group}")
CLOSINGS = (
    "A final vote is expected next month.",
    "{org} is scheduled to take up the issue again at its next meeting.",
    "Officials said more details would be released in the coming weeks.",
    "The next public meeting on the plan has not yet been scheduled.",
)
HEADINGS = ("What happens next", "Mixed reaction", "Cost concerns", "A long road",
            "By the numbers", "Residents weigh in")
CAPTIONS = ("{place} town hall, where officials met on {weekday}. (File photo)",
            "A view of the waterfront in {place}. (Staff photo)",
            "Residents attend a public meeting in {place}. (File photo)")
BRIEFS = (
    "{org} said on {weekday} it would delay a decision on {the_topic}. "
    "This story will be updated.",
    "Officials in {place} have called an emergency meeting about {the_topic}. "
    "More details to follow.",
)


class _Writer:
    def __init__(self, desk: EnglishDesk, rng: random.Random, topic: Topic, weekday: int,
                 month: int) -> None:
        self.desk, self.rng, self.topic = desk, rng, topic
        place, place2 = rng.sample(desk.places, 2)
        org, org2 = rng.sample(desk.orgs, 2)
        self.values: dict[str, object] = {
            "org": org, "Org": cap(org), "org2": org2, "place": place, "place2": place2,
            "the_topic": topic.phrase, "topic": topic.phrase.removeprefix("the "),
            "weekday": WEEKDAYS[weekday], "next_weekday": WEEKDAYS[(weekday + 3) % 7],
            "month": MONTHS[(month + rng.randint(0, 3)) % 12], "cur": desk.currency,
            "institute": desk.institute, "group": desk.residents_group,
        }
        self.people: list[tuple[str, str]] = []
        self.facts, self.quotes = Deck(rng, FACTS), Deck(rng, QUOTES)

    def say(self, template: str) -> str:
        return fill(self.rng, template, self.values)

    def quote(self) -> str:
        rng = self.rng
        if self.people and rng.random() < 0.5:
            last = rng.choice(self.people)[1]
            if rng.random() < 0.5:
                return f"“{self.quotes.draw()},” {last} said."
            return f"{last} called the decision “{rng.choice(VERDICTS)}.”"
        full = f"{rng.choice(self.desk.first_names)} {rng.choice(self.desk.last_names)}"
        self.people.append((full, full.split()[-1]))
        role = self.say(rng.choice(ROLES))
        return f"“{self.quotes.draw()},” said {full}, {role[:1].lower() + role[1:]}."

    def paragraph(self) -> str:
        if self.rng.random() < 0.35:
            parts = [self.quote()]
            if self.rng.random() < 0.5:
                parts.append(self.say(self.facts.draw()))
        else:
            parts = [self.say(self.facts.draw()) for _ in range(self.rng.randint(1, 3))]
        return " ".join(parts)

    def headline(self) -> str:
        text = self.say(self.rng.choice(HEADLINES))
        return text if self.desk.sentence_case_titles else title_case(text)


def story(desk: EnglishDesk, rng: random.Random, topic: Topic, weekday: int, month: int,
          target_words: int, headings: int) -> Piece:
    w = _Writer(desk, rng, topic, weekday, month)
    title = w.headline()
    blocks: list[tuple[str, str]] = [("p", w.say(rng.choice(LEDES)))]
    closing = w.say(rng.choice(CLOSINGS))
    words = count_words(blocks[0][1]) + count_words(closing)
    body: list[tuple[str, str]] = []
    while words < target_words:
        text = w.paragraph()
        body.append(("p", text))
        words += count_words(text)
    for heading in rng.sample(HEADINGS, headings):
        at = rng.randrange(1, len(body)) if len(body) > 1 else 0
        if ("h2", heading) not in body and all(k == "p" for k, _ in body[max(at - 1, 0):at + 1]):
            body.insert(at, ("h2", heading))
    blocks += body + [("p", closing)]
    tags = (str(w.values["place"]), topic.tag)
    return Piece(title, w.say(rng.choice(DESCRIPTIONS)), tags, tuple(blocks),
                 w.say(rng.choice(CAPTIONS)))


def brief(desk: EnglishDesk, rng: random.Random, topic: Topic, weekday: int,
          month: int) -> Piece:
    w = _Writer(desk, rng, topic, weekday, month)
    text = w.say(rng.choice(BRIEFS))
    return Piece(w.headline(), text.split(". ")[0] + ".", (topic.tag,), (("p", text),),
                 w.say(rng.choice(CAPTIONS)))
