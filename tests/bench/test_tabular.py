"""Which saved tabular rows a rerun reuses: a route's row is kept when the settings that decide that route
are equal, whatever the other routes' knobs (a HARMONIC subsample size must not throw away hours of AIM)."""

from bench.tabular import TabularSettings, _how, reusable_rows


def test_a_harmonic_knob_leaves_marginal_rows_reusable() -> None:
    before = TabularSettings().model_dump(mode="json")
    after = TabularSettings(harmonic_train={"german": 256, "adult": 1000}).model_dump(mode="json")
    for route in ("real", "mst", "aim"):
        assert _how(before, route) == _how(after, route)
    for route in ("harmonic", "harmonic-marginals"):
        assert _how(before, route) != _how(after, route)


def test_a_marginal_knob_leaves_real_and_histogram_harmonic_rows_reusable() -> None:
    before = TabularSettings().model_dump(mode="json")
    after = TabularSettings(label_weight=10.0).model_dump(mode="json")
    for route in ("real", "harmonic"):
        assert _how(before, route) == _how(after, route)
    for route in ("mst", "aim", "harmonic-marginals"):  # the marginal reference pool is MST's rows
        assert _how(before, route) != _how(after, route)


def test_which_rows_to_run_never_decides_how_and_old_files_read_new_knobs_as_defaults() -> None:
    saved = TabularSettings().model_dump(mode="json")
    saved.pop("label_weight")  # a results file written before the knob existed
    rerun = TabularSettings(datasets=("adult",), epsilons=(8.0,), routes=("aim",), repeats={"adult": 3})
    assert _how(saved, "aim") == _how(rerun.model_dump(mode="json"), "aim")
    saved.pop("example_rows")  # HARMONIC rows measured before prompts showed reference rows: not today's
    assert _how(saved, "harmonic") != _how(TabularSettings().model_dump(mode="json"), "harmonic")
    assert _how(saved, "harmonic") == _how(TabularSettings(example_rows=0).model_dump(mode="json"), "harmonic")


def test_a_saved_row_from_before_a_new_knob_is_reused_at_the_knobs_default() -> None:
    """A HARMONIC row saved before ``harmonic_steps`` and ``reference_share`` existed ran at their defaults
    (all the epochs' steps, share 0.1): a rerun at those defaults keeps it, one at other values does not."""
    row_settings = _how(TabularSettings(harmonic_train={"german": 192, "adult": 1000}).model_dump(mode="json"), "harmonic")
    for knob in ("harmonic_steps", "reference_share"):
        row_settings.pop(knob)
    saved = {"settings": {}, "rows": [{"dataset": "german", "route": "harmonic", "epsilon": 8.0,
                                       "settings": row_settings}]}
    same = TabularSettings(harmonic_train={"german": 192, "adult": 1000}, routes=("aim",)).model_dump(mode="json")
    assert reusable_rows(saved, same) == saved["rows"]
    other = TabularSettings(harmonic_train={"german": 192, "adult": 1000}, reference_share=0.5).model_dump(mode="json")
    assert reusable_rows(saved, other) == []
