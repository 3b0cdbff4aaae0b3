from envinject.rules.environment import Binding, final_sources, merge


def test_later_binding_wins_and_secrets_override_inherited() -> None:
    env = merge({"A": "inherited", "KEEP": "k"}, [Binding("A", "one", "s1"), Binding("A", "two", "s2")])
    assert env == {"A": "two", "KEEP": "k"}


def test_no_override_keeps_inherited() -> None:
    env = merge({"A": "inherited"}, [Binding("A", "x", "s"), Binding("B", "y", "s")], override=False)
    assert env == {"A": "inherited", "B": "y"}


def test_merge_does_not_touch_its_input() -> None:
    base = {"A": "1"}
    merge(base, [Binding("A", "2", "s")])
    assert base == {"A": "1"}


def test_binding_repr_hides_the_value() -> None:
    assert "canary-value" not in repr(Binding("A", "canary-value", "s"))


def test_final_sources() -> None:
    assert final_sources([Binding("A", "1", "s1"), Binding("B", "1", "s1"), Binding("A", "2", "s2")]) == {
        "A": "s2",
        "B": "s1",
    }
