from codequorum.vocabulary.records import CandidateStore, Record


def test_store_resumes_after_a_line_cut_short(tmp_path):
    store = CandidateStore(tmp_path / "c.jsonl")
    store.append([Record("p1", "a", "k1-t0", 0, "x", 1, 0.1, 0.0, None, passed=True)])
    with store.path.open("a") as handle:
        handle.write('{"problem": "p2", "mem')  # interrupted mid-write
    assert store.done_cells() == {("p1", "a", "k1-t0")}
    store.append([Record("p2", "a", "k1-t0", 0, "y", 1, 0.1, 0.0, None, passed=False)])
    assert store.done_cells() == {("p1", "a", "k1-t0"), ("p2", "a", "k1-t0")}
