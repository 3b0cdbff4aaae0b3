from envinject.push import plan_push


def test_new_secret() -> None:
    plan = plan_push(None, {"A": "1", "B": "2"}, merge=False)
    assert (plan.exists, plan.added, plan.changed, plan.removed) == (False, ["A", "B"], [], [])
    assert plan.content == {"A": "1", "B": "2"}


def test_replace_and_merge() -> None:
    current = {"A": "1", "B": "2", "C": "3"}
    plan = plan_push(current, {"A": "1", "B": "changed", "D": "4"}, merge=False)
    assert (plan.added, plan.changed, plan.removed) == (["D"], ["B"], ["C"])
    assert plan.content == {"A": "1", "B": "changed", "D": "4"}
    plan = plan_push(current, {"B": "changed", "D": "4"}, merge=True)
    assert (plan.added, plan.changed, plan.removed) == (["D"], ["B"], [])
    assert plan.content == {"A": "1", "B": "changed", "C": "3", "D": "4"}


def test_plan_repr_hides_values() -> None:
    assert "canary-push" not in repr(plan_push(None, {"A": "canary-push"}, merge=False))


def test_the_same_content_is_unchanged() -> None:
    assert plan_push({"A": "1"}, {"A": "1"}, merge=False).unchanged
    assert plan_push({"A": "1", "B": "2"}, {"A": "1"}, merge=True).unchanged
    assert not plan_push({"A": "1", "B": "2"}, {"A": "1"}, merge=False).unchanged  # B would go
    assert not plan_push(None, {}, merge=False).unchanged  # a new secret is created, even empty
