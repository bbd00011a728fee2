"""`codequorum distill`: a cheap member fine-tuned on what the ensemble got right.

Knowledge fusion (FuseLLM) and weight merging (task vectors) in stages, each resumable:
trusted examples (`examples`) → the teachers' cached top-k distributions (`teachers`,
`fusion`) → a LoRA on the student (`student`, `loss`, `train`) → λ chosen on a validation
split (`validation`) → the task vector merged into a copy of the base GGUF (`task_vector`,
`gguf_merge`) → a new member (`member`). `pipeline` runs them in order.
"""
