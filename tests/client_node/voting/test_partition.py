import pytest

from client_node.voting.partition import label_stratum, partition_records
from shared.records import Record

SALT = b"k" * 32


def _records(n: int) -> list[Record]:
    return [Record(instruction=f"Write a {'positive' if i % 2 else 'negative'} review {i}.", response=f"text {i}")
            for i in range(n)]


def _group_sets(groups) -> list[frozenset]:
    return sorted((frozenset(r.response for r in g) for gs in groups.by_stratum.values() for g in gs), key=sorted)


def test_every_record_is_in_at_most_one_group() -> None:
    records = _records(60)
    groups = partition_records(records, groups=8, shots=100, salt=SALT)
    members = [r for gs in groups.by_stratum.values() for g in gs for r in g]
    assert sorted(r.response for r in members) == sorted(r.response for r in records) and groups.unused == 0


@pytest.mark.parametrize("shots", [1, 3, 100])
def test_adding_one_record_changes_exactly_one_group(shots: int) -> None:
    """The neighbouring-dataset property the vote's sensitivity rests on."""
    records = _records(50)
    for extra in _records(70)[50:]:
        before = _group_sets(partition_records(records, groups=8, shots=shots, salt=SALT))
        after = _group_sets(partition_records([*records, extra], groups=8, shots=shots, salt=SALT))
        assert len(set(before) ^ set(after)) <= 2  # one group replaced by its changed self (or one appeared)
        assert len(set(before) - set(after)) <= 1


def test_a_group_keeps_its_shots_and_counts_the_rest_unused() -> None:
    groups = partition_records(_records(40), groups=4, shots=2, salt=SALT)
    assert all(len(g) <= 2 for g in groups.by_stratum[None]) and groups.members() + groups.unused == 40


def test_the_key_decides_the_groups() -> None:
    a = partition_records(_records(40), groups=8, shots=9, salt=SALT)
    b = partition_records(list(reversed(_records(40))), groups=8, shots=9, salt=SALT)
    c = partition_records(_records(40), groups=8, shots=9, salt=b"z" * 32)
    assert _group_sets(a) == _group_sets(b) != _group_sets(c)


def test_strata_split_records_by_the_label_their_instruction_names() -> None:
    records = [*_records(20), Record(instruction="Write something", response="neither")]
    groups = partition_records(records, groups=4, shots=10, salt=SALT, strata=["positive", "negative"],
                               stratum_of=label_stratum(["positive", "negative"]))
    for label, gs in groups.by_stratum.items():
        assert all(label in r.instruction for g in gs for r in g)
    assert groups.unused == 1


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        partition_records(_records(3), groups=0, shots=1, salt=SALT)
    with pytest.raises(ValueError):
        partition_records(_records(3), groups=2, shots=1, salt=b"short")
