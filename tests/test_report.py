import pytest

from radis.report import method_metrics, table


def test_method_metrics_adds_fr_against_the_backbone():
    base = {"mt.chrf": 30.0, "general.math": 80.0, "general.safety": 100.0, "general.math.add": 1.0}
    tuned = {
        "mt.chrf": 50.0,
        "general.math": 40.0,
        "general.safety": 100.0,
        "general.math.add": 0.0,
    }
    out = method_metrics(base, tuned)
    assert out["fr"] == 25.0 and out["preservation"] == 75.0  # sub-tasks are not benchmarks
    assert out["mt.chrf"] == 50.0


def test_undefined_fr_is_empty_not_an_error(capsys):
    out = method_metrics({"general.math": 0.0}, {"general.math": 10.0})
    assert out["fr"] is None and "warning" in capsys.readouterr().err
    assert "| m | – |" in table({"m": out})


def test_table_has_one_row_per_model_and_task_columns():
    rows = {
        "backbone": {"general.math": 80.0, "fr": 0.0},
        "radis": {"general.math": 70.0, "fr": 12.5},
    }
    text = table(rows)
    assert "| math |" in text.splitlines()[0]
    assert "| radis | – | – | – | – | 70.00 | 12.50 | – |" in text


def test_model_scores_merge_every_suite_of_one_model(tmp_path):
    from radis.io import RadisError, write_json
    from radis.report import model_scores

    write_json({"mt.chrf": 40.0, "general.math": 80.0}, tmp_path / "radis/evaluate.json")
    write_json({"general.gsm8k": 30.0}, tmp_path / "radis/gsm8k.json")
    write_json({"general.gsm8k": 99.0}, tmp_path / "vanilla/gsm8k.json")
    assert model_scores(tmp_path, "radis") == {
        "mt.chrf": 40.0,
        "general.math": 80.0,
        "general.gsm8k": 30.0,
    }
    with pytest.raises(RadisError, match="vanilla/evaluate.json: file not found"):
        model_scores(tmp_path, "vanilla")


def test_figure_is_a_png_with_one_point_per_model(tmp_path):
    from radis.report import figure

    rows = {
        "backbone": {"mt.chrf": 40.0, "general.math": 80.0, "general.safety": 100.0},
        "vanilla": {"mt.chrf": 55.0, "general.math": 20.0, "general.safety": 60.0},
    }
    assert figure(rows, tmp_path / "f.png") == {"backbone": (90.0, 40.0), "vanilla": (40.0, 55.0)}
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
