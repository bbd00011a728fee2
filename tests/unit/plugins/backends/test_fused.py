from codequorum.plugins.backends.fused import FusedBackend


def test_the_fused_backend_keeps_what_it_mixes_by():
    backend = FusedBackend([], weight_temperature=0.5, scored=8, note=lambda event: None)
    assert (backend.weight_temperature, backend.scored, backend.backends) == (0.5, 8, [])
