from client_node.evaluation.privacy.pii import pii_in_texts, pii_reconstruction


def test_pii_is_found_by_pattern_and_by_name() -> None:
    found = pii_in_texts(["Mail Jane.Doe@example.com, card 4556 1795 7840 9947.", "Ask Jane Doe."], names=["Jane Doe", "Bob Ray"])
    assert found == {"jane.doe@example.com", "4556179578409947", "jane doe"}


def test_reconstruction_rate_is_the_share_of_private_items_in_the_samples() -> None:
    private = {"jane doe", "jane.doe@example.com", "4556179578409947", "bob ray"}
    result = pii_reconstruction(private, ["My card: 4556-1795-7840-9947", "JANE DOE wrote this", "nothing here"])
    assert result.found_items == ["4556179578409947", "jane doe"]
    assert result.rate == 0.5 and result.total == 4


def test_no_private_items_gives_zero() -> None:
    assert pii_reconstruction(set(), ["x"]).rate == 0.0
