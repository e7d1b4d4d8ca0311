"""The fixed phrases of generated text: creator-name suffixes and brand templates per category,
post-title templates per category and post type, tier names and descriptions by rank, and the
words never used as a brand. Every entry starts with a letter (spreadsheet-safe by construction);
the order of every tuple is part of the output (a uniform picks an index)."""

from __future__ import annotations

# Function / politically loaded words from lorem's frequency list that make
# silly titles ("The Although Podcast").
STOPWORDS = frozenset(
    """
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
""".split()
)

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
# {0} post number, {1} {2} Title-cased words, {3} {4} the same words lower-case; per category and
# post type (POST_TYPES order: text, image, video, audio, poll, link), so a title fits its post.
TITLE_TEMPLATES = {
    "podcasts": {
        "text": ("Show Notes #{0}: {1} {2}", "Transcript: {1} {2}", "Episode {0} Reading List"),
        "image": ("From the Studio: {1} {2}", "Guest Photo - {3} {4}"),
        "video": ("Video Episode {0}: {1} {2}", "Recording Day Clip - {3} {4}"),
        "audio": (
            "Episode {0}: {1} {2}",
            "Ep. {0} - {1} and {2}",
            "Bonus Episode: {1} {2}",
            "Listener Q&A #{0}: {1} {2}",
        ),
        "poll": ("Poll: Which Guest Next, {1} or {2}?", "Vote on Episode {0}'s Topic"),
        "link": ("We Were on Another Show: {1} {2}", "Further Listening: {1} {2}"),
    },
    "video": {
        "text": ("Script Draft #{0}: {1} {2}", "Production Update {0}", "Notes on {1} {2}"),
        "image": ("Thumbnail Options: {1} {2}", "Set Photos - {3} {4}"),
        "video": (
            "{1} {2} (Part {0})",
            "Behind the Scenes #{0}: {1} {2}",
            "Vlog {0}: {1} {2}",
            "Early Access: {1} {2}",
        ),
        "audio": ("Director's Commentary: {1} {2}", "Soundtrack Preview {0}"),
        "poll": ("Poll: Next Video, {1} or {2}?", "Vote: Part {0} Ending"),
        "link": ("Now Streaming: {1} {2}", "Collab on Another Channel: {1} {2}"),
    },
    "visual_art": {
        "text": ("Artist Notes #{0}: {1} {2}", "Commission Slots Update {0}", "How I Paint {3} {4}"),
        "image": (
            "Sketchbook #{0}: {1} {2}",
            "WIP: {1} {2}",
            "Finished Piece: {1} {2}",
            "Print Drop {0}: {1} {2}",
        ),
        "video": ("Process Video - {3} {4}", "Speedpaint #{0}: {1} {2}"),
        "audio": ("Studio Chat {0}: {1} {2}", "Voice Note: {3} {4}"),
        "poll": ("Poll: Next Piece, {1} or {2}?", "Vote for Print #{0}"),
        "link": ("Shop Update: {1} {2}", "Featured in a {1} Gallery"),
    },
    "education": {
        "text": ("Study Notes #{0} - {3} and {4}", "Worksheet {0}: {1} {2}", "Reading Guide: {1} {2}"),
        "image": ("Cheat Sheet {0}: {1} {2}", "Diagram: {1} {2}"),
        "video": ("Lesson {0}: {1} {2}", "Live Q&A: {1} {2}", "Worked Example #{0}: {1} {2}"),
        "audio": ("Audio Lesson {0}: {1} {2}", "Revision Podcast - {3} {4}"),
        "poll": ("Poll: Which Topic for Lesson {0}?", "Quiz: {1} or {2}?"),
        "link": ("Further Reading: {1} {2}", "Recommended Course: {1} {2}"),
    },
    "writing": {
        "text": ("Chapter {0}: {1} {2}", "Short Story: The {1} {2}", "Draft {0} - {3} {4}", "Poem: {1} {2}"),
        "image": ("Cover Reveal: {1} {2}", "Map of {1} {2}"),
        "video": ("Reading of Chapter {0}", "Writing Session: {1} {2}"),
        "audio": ("Audiobook Chapter {0}: {1} {2}", "I Read You a Poem: {1} {2}"),
        "poll": ("Poll: What Happens in Chapter {0}?", "Vote: {1} or {2} for the Title?"),
        "link": ("Published Elsewhere: {1} {2}", "Interview: on {3} {4}"),
    },
    "music": {
        "text": ("Lyrics: {1} {2}", "Studio Diary {0}: {1} {2}", "Tour Notes #{0}"),
        "image": ("Artwork for {1} {2}", "Studio Photos - {3} {4}"),
        "video": ("Live Session #{0}: {1} {2}", "Music Video: {1} {2}", "Tutorial: Playing {1} {2}"),
        "audio": (
            "New Track: {1} {2}",
            "Demo #{0} - {3} {4}",
            "Stems Pack: {1} {2}",
            "Acoustic Version: {1} {2}",
        ),
        "poll": ("Poll: Next Single, {1} or {2}?", "Vote for the Setlist #{0}"),
        "link": ("Out Now Everywhere: {1} {2}", "Radio Play: {1} {2}"),
    },
    "games": {
        "text": ("Devlog #{0} - new {3} {4}", "Patch {0} Notes: {1} {2}", "Design Notes: {1} {2}"),
        "image": ("Concept Art: {1} {2}", "Screenshot Saturday #{0}"),
        "video": ("Gameplay Preview: {1} {2}", "Dev Stream {0}: {1} {2}"),
        "audio": ("Soundtrack Preview: {1} {2}", "Dev Chat #{0}"),
        "poll": ("Poll: Which Feature Next, {1} or {2}?", "Vote: Name the {1} Level"),
        "link": ("Playtest Build {0}", "Wishlist It: {1} {2}"),
    },
}
TIER_NAMES = (
    ("Supporter", "Fan", "Friend", "Backer", "Follower"),
    ("Insider", "Superfan", "Enthusiast", "Crew", "Regular"),
    ("VIP", "Champion", "Producer", "Collaborator", "Studio Pass"),
    ("Patron Saint", "Executive Producer", "Inner Circle", "Benefactor", "Founding Patron"),
)
# A tier's description: an opener, the perks of its rank in the words of the creator's category,
# a closer. {thing}: what the creator makes; {extra}: the category's kind of bonus.
TIER_OPENERS = (
    "Thank you for being here!",
    "Every pledge keeps this going.",
    "Welcome in.",
    "You make this possible.",
    "Pull up a chair.",
    "Hi, and thank you!",
)
TIER_PERKS = (
    (
        "You get patron-only posts and a spot in the community chat.",
        "Every new {thing} a day before everyone else.",
        "My thanks, patron-only updates and a look at what's coming next.",
    ),
    (
        "Everything in the tier below plus early access to every {thing}.",
        "Early {thing}, monthly behind-the-scenes posts and {extra}.",
        "All earlier perks plus a bonus {thing} every month.",
    ),
    (
        "All of the above plus {extra} and a vote on what I make next.",
        "Bonus {thing}s, {extra} and your name in the credits.",
        "A monthly live Q&A, {extra} and everything in the lower tiers.",
    ),
    (
        "Every perk on the page plus a one-on-one call each month.",
        "A signed thank-you each quarter, credits, {extra} and all other perks.",
        "A say in upcoming projects, private calls and every other perk.",
    ),
)
TIER_CLOSERS = ("", " Thank you!", " It means the world.", " Cancel any time.", " See you inside!")
CATEGORY_WORDS = {  # (thing, extra)
    "podcasts": ("episode", "an ad-free feed"),
    "video": ("video", "4K downloads"),
    "visual_art": ("piece", "high-resolution files"),
    "education": ("lesson", "printable worksheets"),
    "writing": ("chapter", "e-book editions"),
    "music": ("track", "lossless downloads and stems"),
    "games": ("build", "beta access"),
}
