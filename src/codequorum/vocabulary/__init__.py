"""The shared vocabulary: the data every layer speaks (request, prompt, generation, cancel token,
candidate, result, errors). It imports nothing else of codequorum, so anything may import it."""
