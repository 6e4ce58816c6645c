"""Every page a person can reach, in one list, with the data that makes it a real page (the
evening of tests/support/evening.py). The walks visit each; tests/test_pages_walk.py fails when
the app serves a GET route that is neither listed here nor named below as not a page, so a new
page is walked too.

`path` is formatted with the evening's ids; `stage` is the moment of the evening at which the
page is visited ("night": the show on, the quiz's first question open; "revealed": its answer
shown; "buzzer": the bell buzzer on, a team's turn; "after": the games and the show finished;
"hub": the van synced to the hub)."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    name: str           # names the page in every finding and screenshot
    endpoint: str       # the Flask endpoint it exercises
    path: str
    who: str            # crew, door (before login), projector, audience, hub, hub-door
    stage: str = "night"
    wait: str = ""      # a selector that the page's script fills in once it has the state
    submit: str = ""    # a button pressed after loading `path`: the page is the answer


VAN_PAGES = [
    Page("login", "auth.login", "/login", "door"),
    Page("today", "console.today", "/", "crew"),
    Page("tour", "console.tour", "/tour", "crew"),
    Page("screening", "console.screening", "/screenings/{tonight}", "crew"),
    Page("screening-cancelled", "console.screening", "/screenings/{cancelled}", "crew"),
    Page("media", "console.media", "/media", "crew"),
    Page("preflight", "console.preflight", "/preflight", "crew"),
    Page("preflight-problems", "console.preflight", "/preflight?days=14", "crew", stage="after"),
    Page("run", "run.console", "/run/", "crew"),           # tonight, yesterday's not held, the coming
    Page("run-earlier", "run.screening", "/run/{later}", "crew"),
    Page("run-tonight", "run.screening", "/run/{tonight}", "crew", wait="#state:not(:empty)"),
    Page("run-tomorrow", "run.screening", "/run/{tomorrow}", "crew"),
    Page("run-cancelled", "run.screening", "/run/{cancelled}", "crew"),
    Page("run-done", "run.screening", "/run/{tonight}", "crew", stage="after"),
    Page("remote", "run.remote", "/run/remote", "crew", wait="#state:not(:empty)"),
    Page("count", "attendance.tally_index", "/attendance/", "crew"),
    Page("tally", "attendance.tally_page", "/attendance/screenings/{tonight}", "crew"),
    Page("sign-in", "attendance.sign_in", "/attendance/screenings/{tonight}/sign-in", "crew"),
    Page("card", "attendance.card", "/attendance/participants/{participant}", "crew"),
    Page("lookup", "attendance.lookup", "/attendance/lookup", "crew"),
    Page("lookup-missing", "attendance.lookup", "/attendance/lookup?code=ZZZZZZ", "crew"),
    Page("summary-night", "attendance.summary_page", "/attendance/screenings/{tonight}/summary", "crew"),
    Page("summary", "attendance.summary_page", "/attendance/screenings/{tonight}/summary", "crew",
         stage="after"),
    Page("games", "games.index", "/games/", "crew", wait="#control .live-title, #control .state-line"),
    Page("games-buzzer", "games.index", "/games/", "crew", stage="buzzer", wait="#control .teams"),
    Page("games-after", "games.index", "/games/", "crew", stage="after"),
    Page("game-results", "games.run_results", "/games/runs/{quiz}", "crew", stage="after"),
    Page("poll-results", "games.run_results", "/games/runs/{poll_after}", "crew", stage="after"),
    Page("pledge-results", "games.run_results", "/games/runs/{pledge}", "crew", stage="after"),
    Page("buzzer-results", "games.run_results", "/games/runs/{buzzer}", "crew", stage="after"),
    Page("poll-before-results", "games.run_results", "/games/runs/{poll_before}", "crew", stage="after"),
    Page("screening-games", "games.screening", "/games/screenings/{tonight}", "crew", stage="after"),
    Page("sync", "sync.status", "/sync/", "crew"),
    Page("sync-paired", "sync.status", "/sync/", "crew", stage="hub"),
    Page("not-found", "", "/no-such-page", "crew"),

    Page("projector-question", "run.projector", "/run/projector", "projector"),
    Page("projector-answer", "run.projector", "/run/projector", "projector", stage="revealed"),
    Page("projector-buzzer", "run.projector", "/run/projector", "projector", stage="buzzer"),
    Page("projector-end", "run.projector", "/run/projector", "projector", stage="after"),
    Page("game-projector-question", "games.projector", "/games/projector", "projector", wait="#stage .question"),
    Page("game-projector-answer", "games.projector", "/games/projector", "projector", stage="revealed",
         wait="#stage .explanation"),
    Page("game-projector-buzzer", "games.projector", "/games/projector", "projector", stage="buzzer",
         wait="#stage .teams"),
    Page("game-projector-end", "games.projector", "/games/projector", "projector", stage="after"),
    Page("phone-question", "audience.play", "/a/", "audience", wait="#phone .choices"),
    Page("phone-answer", "audience.play", "/a/", "audience", stage="revealed", wait="#phone .reveal"),
    Page("phone-buzzer", "audience.play", "/a/", "audience", stage="buzzer", wait="#phone .choices"),
    Page("phone-end", "audience.play", "/a/", "audience", stage="after"),
]

HUB_PAGES = [
    Page("hub-login", "hubauth.login", "/login", "hub-door", stage="hub"),
    Page("hub-pair", "hubapi.pair_hint", "/pair?code={pair_code}", "hub-door", stage="hub"),
    Page("hub-dashboard", "hub.dashboard", "/", "hub", stage="hub"),
    Page("hub-people", "hub.screenings", "/screenings?metric=people", "hub", stage="hub"),
    Page("hub-screenings", "hub.screenings", "/screenings", "hub", stage="hub"),
    Page("hub-quiz", "hub.screenings", "/screenings?metric=quiz:bell-quiz:q1", "hub", stage="hub"),
    Page("hub-poll", "hub.screenings", "/screenings?metric=poll:attitude:private-matter", "hub", stage="hub"),
    Page("hub-screening", "hub.screening", "/screenings/{tonight}", "hub", stage="hub"),
    Page("hub-cancelled", "hub.screening", "/screenings/{cancelled}", "hub", stage="hub"),
    Page("hub-records", "hub.screening_records", "/screenings/{tonight}/records", "hub", stage="hub"),
    Page("hub-taps", "hub.screening_records", "/screenings/{tonight}/records?kind=tap", "hub", stage="hub"),
    Page("hub-vans", "hub.vans", "/vans", "hub", stage="hub"),
    Page("hub-van-rotate", "hubvans.rotate", "/vans/van-05/rotate", "hub", stage="hub"),
    Page("hub-van-revoke", "hubvans.revoke", "/vans/van-05/revoke", "hub", stage="hub"),
    Page("hub-van-code", "hubvans.rotate", "/vans/van-05/rotate", "hub", stage="hub", submit="#confirm-button"),
    Page("hub-summary", "hubapi.summary", "{summary_path}", "hub", stage="hub"),
    Page("hub-not-found", "", "/no-such-page", "hub", stage="hub"),
]

# GET routes that are not pages a person reads: JSON, files, redirects, the poll of a page.
NOT_PAGES = {
    "static", "healthz", "i18n.switch",
    "audience.state", "audience.me",
    "attendance.summary_png", "calendar.tour_ics",
    "sync.status_json",
    "hub.export",
}
NOT_PAGE_PREFIXES = ("api.", "hubapi.")       # the JSON APIs (the hub's two pages are listed above)


def is_page_endpoint(endpoint: str) -> bool:
    if endpoint in NOT_PAGES:
        return False
    if endpoint in {p.endpoint for p in VAN_PAGES + HUB_PAGES}:
        return True
    return not endpoint.startswith(NOT_PAGE_PREFIXES)


# Latin-script words a Hindi page may show, reviewed one by one.
PROPER_NAMES = {
    # blocks and districts of the sample tours: the tour files spell them in Latin only
    "Barabanki", "Haidergarh", "Harakh", "Fatehpur", "Masauli", "Dewa", "Banki", "Ramnagar",
    "Sirauli", "Gauspur", "Trivediganj", "Siddhaur", "Lucknow", "Malihabad",
    "English",          # the language switch names its language in that language
    "asha",             # the coordinator's login name (tests/support/evening.py)
    "Bell", "Bajao",    # the campaign's name, Bell Bajao, as its tours name it (bell-bajao)
    # each answer's letter, the same on the projector and the phones (as on KBC)
    "A", "B", "C", "D", "E", "F",
}
VAN_ID = r"van-\d+"     # a van's id (the laptop's name on the hub and in its header)
FILE_NAME = r"[\w./-]+\.(?:mp4|ogg|webm|mkv|mp3|yaml)"
# Not words of any language: web addresses to type (the join address, the hub's), the codes a
# person types or reads out (pairing, participant card), record ids.
NOT_WORDS = (
    r"https?://\S+",
    r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?:/\S*)?",
    r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b",                                   # a pairing code
    r"\b(?=[0-9A-Z]*\d)(?=[0-9A-Z]*[A-Z])[0-9A-Z]{8}\b",              # a participant's card code
    r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",  # a record's id
)
