import pytest
from stage_runner import run_stage

from radis.evaluate.report import method_metrics, table


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
    from radis.core.io import RadisError, write_json
    from radis.evaluate.report import model_scores

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
    from radis.evaluate.report import figure

    rows = {
        "backbone": {"mt.chrf": 40.0, "general.math": 80.0, "general.safety": 100.0},
        "vanilla": {"mt.chrf": 55.0, "general.math": 20.0, "general.safety": 60.0},
    }
    assert figure(rows, tmp_path / "f.png") == {"backbone": (90.0, 40.0), "vanilla": (40.0, 55.0)}
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# The paper's Table 1 (general benchmarks; COMET by direction group) and Table 4's forgetting
# rates, which the paper prints cut (not rounded) to two decimals: FR is checked to 0.01.
# backbone: model -> (X→EN, EN→X, MT-Bench, AlpacaEval, AlpacaEval 2.0, AdvBench, GSM8K)
TABLE_1 = {
    "llama2": {
        "backbone": (79.01, 73.39, 6.51, 71.40, 9.66, 100.00, 21.83),
        "vanilla": (81.71, 82.81, 1.5, 2.18, 0.71, 37.88, 4.32),
        "radis": (81.22, 82.61, 6.56, 67.94, 7.47, 100.00, 19.48),
    },
    "mistral": {
        "backbone": (80.84, 67.79, 7.67, 84.91, 15.09, 68.46, 41.62),
        "vanilla": (82.33, 84.31, 1.94, 6.07, 1.02, 4.23, 0.23),
        "radis": (81.94, 84.39, 7.57, 80.34, 11.05, 62.12, 41.70),
    },
    "qwen2.5": {
        "backbone": (80.85, 82.92, 8.58, 88.46, 31.55, 99.81, 87.72),
        "vanilla": (83.45, 85.34, 3.83, 4.87, 2.95, 27.12, 28.35),
        "radis": (83.66, 85.43, 8.43, 85.62, 27.91, 99.42, 88.32),
    },
}
TABLE_4 = {
    "llama2": {"vanilla": 81.77, "radis": 7.50},
    "mistral": {"vanilla": 90.81, "radis": 8.50},
    "qwen2.5": {"vanilla": 76.20, "radis": 3.24},
}


def write_suites(eval_dir, model: str, scores: tuple) -> None:
    """One model's scores as the suites write them (metrics/eval/<model>/<suite>.json)."""
    from radis.core.io import write_json

    xx_en, en_xx, mt_bench, ae1, ae2, advbench, gsm8k = scores
    folder = eval_dir / model
    write_json({"mt.xx-en.chrf": 50.0, "mt.chrf": 50.0}, folder / "evaluate.json")
    comet = {"mt.xx-en.comet": xx_en, "mt.en-xx.comet": en_xx, "mt.comet": (xx_en + en_xx) / 2}
    comet |= {"mt.de-en.comet": xx_en, "mt.en-de.comet": en_xx}
    write_json(comet, folder / "comet.json")
    write_json(
        {
            "general.mt_bench": mt_bench,
            "general.mt_bench.turn_1": mt_bench,
            "general.alpaca_eval": ae1,
            "general.alpaca_eval.lc_win_rate": 1.0,
            "general.alpaca_eval2": ae2,
        },
        folder / "judge.json",
    )
    write_json(
        {"general.advbench": advbench, "general.advbench.safe_rate": advbench},
        folder / "safety.json",
    )
    write_json({"general.gsm8k": gsm8k, "general.gsm8k.n": 1319}, folder / "gsm8k.json")


def run_ok(cwd, *args):
    done = run_stage(cwd, *args)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("backbone", sorted(TABLE_1))
def test_paper_table_1_through_the_report_gives_table_4(backbone, tmp_path):
    from radis.core.io import read_json

    (tmp_path / "params.yaml").write_text("methods: [vanilla, radis]\n")
    for model, scores in TABLE_1[backbone].items():
        write_suites(tmp_path / "metrics/eval", model, scores)
    for method, fr in TABLE_4[backbone].items():
        run_ok(tmp_path, "stages.report", method)
        out = read_json(tmp_path / f"metrics/{method}.json")
        assert out["fr"] == pytest.approx(fr, abs=0.01 + 1e-9)
        assert out["preservation"] == pytest.approx(100 - fr, abs=0.01 + 1e-9)
    run_ok(tmp_path, "stages.summary")
    text = (tmp_path / "metrics/table.md").read_text()
    assert text.splitlines()[0] == (
        "| model | COMET X→EN | COMET EN→X | MT-Bench | AlpacaEval | AlpacaEval 2.0 | AdvBench "
        "| GSM8K | FR ↓ | Preservation ↑ |"
    )
    row = dict(zip(TABLE_1[backbone], text.splitlines()[2:5]))["radis"]
    x_en, en_x, *general = TABLE_1[backbone]["radis"]
    assert row.startswith(
        f"| radis | {x_en:.2f} | {en_x:.2f} | " + " | ".join(f"{v:.2f}" for v in general)
    )
    assert "### COMET X→EN per language (Table 6)" in text
    assert f"| radis | {x_en:.2f} | {x_en:.2f} |" in text  # de, then the average


def test_figure_1_is_comet_against_mt_bench_when_both_ran(tmp_path):
    from radis.evaluate.report import figure

    rows = {
        m: {"mt.comet": 80.0 + i, "general.mt_bench": 7.0 - i, "general.gsm8k": 40.0}
        for i, m in enumerate(["backbone", "vanilla"])
    }
    assert figure(rows, tmp_path / "f.png") == {"backbone": (7.0, 80.0), "vanilla": (6.0, 81.0)}


def test_table_2_follows_when_the_formality_suite_ran():
    from radis.evaluate.report import report

    rows = {
        "backbone": {"mt.chrf": 40.0, "general.math": 80.0},
        "radis": {
            "mt.chrf": 50.0,
            "general.math": 70.0,
            "formality.formal.comet": 79.61,
            "formality.formal.accuracy": 87.3,
            "formality.informal.comet": 78.8,
            "formality.informal.accuracy": 72.4,
        },
    }
    text = report(rows)
    assert "### Formality steering, CoCoA-MT EN→DE (Table 2)" in text
    assert "| radis | 79.61 | 87.30 | 78.80 | 72.40 |" in text
    assert "| backbone | " in text.split("Table 2")[0]  # in the main table only
    assert "Table 2" not in report({"backbone": rows["backbone"]})


def test_curve_at_interpolates_inside_the_sweep_only():
    from radis.evaluate.report import curve_at

    curve = [(40.0, 12.0), (10.0, 4.0), (20.0, 8.0)]  # (FR, gain), any order
    assert curve_at(curve, 15.0) == pytest.approx(6.0)
    assert curve_at(curve, 30.0) == pytest.approx(10.0)
    assert curve_at(curve, 10.0) == 4.0
    assert curve_at(curve, 5.0) is None and curve_at(curve, 41.0) is None


def test_tradeoff_points_are_gain_and_fr_against_the_backbone(tmp_path):
    from radis.evaluate.report import tradeoff_figure, tradeoff_points

    rows = {
        "backbone": {"mt.chrf": 30.0, "fr": 0.0},
        "vanilla": {"mt.chrf": 42.0, "fr": 45.0},
        "radis": {"mt.chrf": 39.5, "fr": 20.0},
        "broken": {"mt.chrf": 35.0, "fr": None},
    }
    points = tradeoff_points(rows)
    assert points == {"vanilla": (45.0, 12.0, 0.0, 0.0), "radis": (20.0, 9.5, 0.0, 0.0)}
    curves = {
        "vanilla (learning rates)": [(10.0, 4.0, 1.0, 0.5, "1e-3"), (45.0, 12.0, 2, 1, "3e-3")]
    }
    tradeoff_figure(curves, points, tmp_path / "t.png")
    assert (tmp_path / "t.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
