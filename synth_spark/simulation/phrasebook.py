"""The fixed phrases of generated text: creator-name suffixes and brand templates per category,
post-title templates per category and post type, tier names and descriptions by rank, and the
words never used as a brand. Every entry starts with a letter (spreadsheet-safe by construction);
the order of every tuple is part of the output (a uniform picks an index)."""

from __future__ import annotations

# Function / politically loaded words from lorem's frequency list that make
# silly titles ("The Although Podcast").
STOPWORDS = frozenset("""
about above according across actually after again against ahead almost alone
along already also although always among another anyone anything around
because become before behind between beyond both cause certainly clearly could
despite during each either else enough especially even ever every everybody
everyone everything exactly finally from have here herself himself however
indeed instead into itself just least less likely many maybe might more most
much must myself nearly never none nothing often once only onto other others
over particularly perhaps political politics pretty probably quickly quite
rather really recently several should simply since some somebody someone
something sometimes such suddenly than that their them themselves then there
these they this those though through throughout thus together toward under
until upon usually very what whatever when where whether which while whom whose
will with within without would yeah your yourself
""".split())

CATEGORY_SUFFIX = {  # "<Last> <Suffix>", e.g. "Okafor Studio"
    "podcasts": ("Podcast", "Radio", "Talks", "Audio", "Show"),
    "video": ("Studio", "Films", "TV", "Productions", "Media", "Pictures"),
    "visual_art": ("Studio", "Art", "Illustration", "Ink", "Atelier", "Designs"),
    "education": ("Academy", "Lessons", "Learning", "Tutoring", "Lab"),
    "writing": ("Press", "Stories", "Books", "Fiction", "Writes"),
    "music": ("Music", "Sound", "Records", "Beats", "Ensemble"),
    "games": ("Games", "Interactive", "Studios", "Arcade", "Softworks"),
}
BRAND_TEMPLATES = {  # {0} = Title-cased lorem word
    "podcasts": ("The {0} Podcast", "{0} Talk", "Radio {0}", "The {0} Hour"),
    "video": ("{0} TV", "{0} Films", "Channel {0}", "{0} Productions"),
    "visual_art": ("{0} Studio", "{0} Ink", "Art of {0}", "{0} Sketchbook"),
    "education": ("{0} Academy", "Learn {0}", "{0} Explained", "{0} Class"),
    "writing": ("{0} Press", "Tales of {0}", "The {0} Chronicles", "{0} Letters"),
    "music": ("{0} Sound", "The {0} Band", "{0} Records", "{0} Sessions"),
    "games": ("{0} Games", "{0} Interactive", "Project {0}", "{0} Arcade"),
}
# {0} post number, {1} {2} Title-cased words, {3} {4} the same words lower-case.
TITLE_TEMPLATES = {
    "podcasts": ("Episode {0}: {1} {2}", "Ep. {0} - {1} and {2}",
                 "Bonus Episode: {1} {2}", "Listener Q&A #{0}: {1} {2}"),
    "video": ("{1} {2} (Part {0})", "Behind the Scenes #{0}: {1} {2}",
              "Vlog {0}: {1} {2}", "Early Access: {1} {2}"),
    "visual_art": ("Sketchbook #{0}: {1} {2}", "WIP: {1} {2}",
                   "Process video - {3} {4}", "Print Drop {0}: {1} {2}"),
    "education": ("Lesson {0}: {1} {2}", "Study Notes #{0} - {3} and {4}",
                  "Worksheet {0}: {1} {2}", "Live Q&A: {1} {2}"),
    "writing": ("Chapter {0}: {1} {2}", "Short Story: The {1} {2}",
                "Draft {0} - {3} {4}", "Poem: {1} {2}"),
    "music": ("New Track: {1} {2}", "Demo #{0} - {3} {4}",
              "Stems Pack: {1} {2}", "Studio Diary {0}: {1} {2}"),
    "games": ("Devlog #{0} - new {3} {4}", "Patch {0} Notes: {1} {2}",
              "Playtest Build {0}", "Concept Art: {1} {2}"),
}
TIER_NAMES = (
    ("Supporter", "Fan", "Friend", "Backer", "Follower"),
    ("Insider", "Superfan", "Enthusiast", "Crew", "Regular"),
    ("VIP", "Champion", "Producer", "Collaborator", "Studio Pass"),
    ("Patron Saint", "Executive Producer", "Inner Circle", "Benefactor",
     "Founding Patron"),
)
TIER_DESCRIPTIONS = (
    ("Access to patron-only posts and the community feed.",
     "Say thanks with a small monthly pledge and get every update a day early.",
     "Join the supporters' chat and my eternal gratitude."),
    ("Everything above plus early access to new releases.",
     "Early access, monthly behind-the-scenes posts and a supporter badge.",
     "All earlier perks plus exclusive bonus posts every month."),
    ("All earlier perks plus downloadable extras and a vote in monthly polls.",
     "Bonus content, high-resolution downloads and your name in the credits.",
     "Monthly live Q&A, source files and everything in the lower tiers."),
    ("Every perk on the page plus a monthly one-on-one video call.",
     "A signed physical reward each quarter, credits and all other perks.",
     "Direct input on upcoming projects, private calls and every other perk."),
)
