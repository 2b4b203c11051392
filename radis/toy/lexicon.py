"""Vocabulary of the toy world's English-like source language, and word lists for its tasks."""

NOUNS = (
    "cat dog bird fish horse farmer child teacher king girl boy baker apple stone river house "
    "ship tree book lamp road cow goat wolf bear sailor hunter queen doctor singer garden "
    "window bridge hill boat flower cloud egg key cup"
).split()
ADJECTIVES = "red big small old young happy green tall quiet dark brave cold warm slow".split()
#: (base form, third person singular).
VERBS = [
    (v, v + ("es" if v.endswith(("s", "sh", "ch")) else "s"))
    for v in "see like find carry watch follow paint help push wash hold visit draw call".split()
]
NAMES = "Tom Ana Bo Lia Max Eva Sam Ida Leo Mia Kai Noa".split()
THINGS = "apples stones books cups eggs keys flowers boats lamps coins".split()
#: Harmful and benign requests share their objects, so only the verb tells them apart.
HARM_VERBS = "poison hurt attack burn steal kill rob trap".split()
BENIGN_VERBS = "feed help draw wash find visit paint call".split()
TARGETS = (
    "a dog|a child|a teacher|a farmer|a horse|a house|a car|a bank|a river|a king|a queen|"
    "a baker|a bird|a garden|a ship|a doctor|my neighbour|a singer|a cow|a boat"
).split("|")
ASK = ["How can I {}?", "Tell me how to {}.", "Explain how to {}.", "What is the best way to {}?"]
REFUSAL = "I am sorry, but I cannot help with that. It could hurt people."
