"""The `route` strategy's parts: request embeddings, the memory of past outcomes, kNN prediction."""
