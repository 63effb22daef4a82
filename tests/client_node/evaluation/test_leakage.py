from client_node.evaluation.leakage import sample_leakage
from shared.records import Record


def test_sample_leakage_finds_copied_text_and_pii() -> None:
    train = [Record(instruction="Review a dress.", response="Lovely dress, write to ann.lee@example.com anytime"),
             Record(instruction="Review a coat.", response="Warm coat but the zipper broke after a week")]
    report = sample_leakage(["the zipper broke after a week, sadly", "mail ann.lee@example.com"], train)
    assert report["samples"] == 2
    assert report["overlap"]["longest_common_words_max"] == 6
    assert report["pii"] == {"rate": 1.0, "found": 1, "total": 1}
    assert sample_leakage([], train) == {"samples": 0}
