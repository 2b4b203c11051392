"""The embedded toy world: synthetic languages, tasks, tokenizer and a tiny chat backbone."""
