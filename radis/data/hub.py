"""The paper setup's datasets: hub ids, a mirror folder or local files, read into DataFrames.

Every dataset is named by a hub id and read with ``datasets.load_dataset`` at a pinnable revision.
``fetch.mirror`` redirects every hub id ``X`` to the folder ``<mirror>/X``, laid out like the hub
repository (config folders, split Parquet files, a README whose YAML lists the configs), so the
same call runs offline; a folder has no revisions, so ``revision`` is ignored there. A ``local``
file (JSON array, JSON lines or Parquet) stands in for a dataset without the hub's layout. Files
kept in GitHub repositories (CoCoA-MT, FastChat's MT-Bench questions) are downloaded at a pinned
revision, or read from ``<mirror>/<owner>/<name>`` or a local copy.

The functions here return the source's rows in order with our column names and ids built from the
row number in the source, so ids stay the same whatever rows are dropped later.
"""

import json
import random
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.request import urlopen

import pandas as pd

from radis.core.io import RadisError
from radis.core.templates import language_name

#: What a failed load raises (unknown config or split, missing repository, file or revision, no
#: network, a repository whose loader is a script); reported as one line naming the dataset.
LOAD_ERRORS = (ValueError, OSError, RuntimeError)

#: A full commit sha: pins a revision as it is, with no call to the hub (works offline).
COMMIT = re.compile(r"[0-9a-f]{40}")

#: The commit each hub repository read in this process resolved to: repo id -> sha. Stages write
#: it into their outputs or metrics, so ``dvc.lock`` pins the data and weights a result came from.
COMMITS: dict[str, str] = {}

#: Raw files of a GitHub repository at a revision (branch, tag or commit).
GITHUB_RAW = "https://raw.githubusercontent.com/{repo}/{revision}/{path}"

#: A commit of lm-sys/FastChat whose ``question.jsonl`` holds MT-Bench's 80 questions.
FASTCHAT_REVISION = "589532dcfa83700f950b9aa3983416c543afabc0"

#: Joins an instruction and its non-empty input into one user prompt (Alpaca, Dolly).
INPUT_JOIN = "\n\n"

#: The struct column of the ALMA, WMT22 and Opus-100 repositories: language code -> text.
PAIR_COLUMN = "translation"

#: MUSE's ground-truth bilingual dictionaries as its README links them: ``{pair}.txt`` is the
#: full dictionary (up to 100k pairs), ``{pair}.0-5000.txt`` and ``{pair}.5000-6500.txt`` its
#: train and test splits.
MUSE_URL = "https://dl.fbaipublicfiles.com/arrival/dictionaries/{pair}.txt"

#: Where a mirror holds MUSE's dictionaries: the folder MUSE's ``data/get_evaluation.sh`` fills.
MUSE_MIRROR = "facebookresearch/MUSE/data/crosslingual/dictionaries"


@dataclass
class DatasetSpec:
    """One split of a hub dataset, or a local file standing in for it.

    Attributes:
        id: Hub dataset id (``openai/gsm8k``); read from ``<mirror>/<id>`` under a mirror.
        config: Config (subset) name; ``None`` for the default one.
        split: Split to read.
        revision: Branch, tag or commit sha of the hub repository; ``None`` is its default
            branch. Ignored for a mirror folder and a local file.
        file: A file of the repository (JSON array, JSON lines or Parquet), read instead of
            ``config`` and ``split``: for repositories whose loader is a script, which
            ``datasets`` no longer runs (tatsu-lab/alpaca_eval).
        local: A local file (JSON array, JSON lines or Parquet) read instead of the hub and the
            mirror.
        columns: Our column name to the source's where they differ; a column mapped to ``None``
            is absent from the source and filled with empty strings.
    """

    id: str
    config: str | None = None
    split: str = "train"
    revision: str | None = None
    file: str | None = None
    local: str | None = None
    columns: dict = field(default_factory=dict)


@dataclass
class TranslationSpec:
    """One split of a parallel dataset whose rows hold a struct ``translation`` {lang: text}.

    Attributes:
        id: Hub dataset id.
        split: Split to read.
        configs: Configs named ``<a>-<b>``; ``None`` derives them from ``base.languages``
            (see ``naming``).
        revision: As :class:`DatasetSpec`.
        both_directions: Each pair gives a row a→b and a row b→a (ALMA's training data);
            otherwise only the config's own direction a→b (WMT22, one config per direction).
        naming: How derived configs are named: ``x-en`` gives ``<x>-en`` with
            ``both_directions``, else ``<x>-en`` and ``en-<x>`` (ALMA, WMT22); ``sorted`` gives
            one config per language, the two codes in alphabetical order (Opus-100's ``de-en``,
            ``en-ja``).
        codes: The dataset's code for a language where it is not ours (Opus-100: ``{nb: "no"}``),
            in derived configs and their ``translation`` fields.
    """

    id: str
    split: str
    configs: list | None = None
    revision: str | None = None
    both_directions: bool = False
    naming: Literal["x-en", "sorted"] = "x-en"
    codes: dict = field(default_factory=dict)


@dataclass
class ParallelSpec:
    """SDRRL's external parallel corpus (D_mt, D_comp): English-X pairs of ``translation`` structs.

    Attributes:
        id: Hub dataset id (paper: Opus-100); read from ``<mirror>/<id>`` under a mirror.
        split: Split the pairs are sampled from.
        configs: Config per language where it is not the two codes in alphabetical order
            (Opus-100's naming: ``de-en``, ``en-ja``), e.g. ``{nb: en-no}``.
        revision: As :class:`DatasetSpec`.
        pairs: Pairs kept per language: a seeded sample (``base.seed``) of the split's pairs
            with both texts non-blank; ``None`` keeps them all (Opus-100: up to 1M a language).
    """

    id: str = "Helsinki-NLP/opus-100"
    split: str = "train"
    configs: dict = field(default_factory=dict)
    revision: str | None = None
    pairs: int | None = 1000


#: OpenCC's conversions (its ``<name>.json`` configs): simplified/traditional Chinese and variants.
OPENCC = ("t2s", "s2t", "tw2s", "s2tw", "hk2s", "s2hk", "tw2sp", "s2twp", "t2tw", "t2hk", "t2jp")


@dataclass
class DictionarySpec:
    """Bilingual dictionaries in MUSE's format, ``en-<x>.txt`` and ``<x>-en.txt`` per language.

    Attributes:
        url: Where the file of ``{pair}`` (``en-de``, ``de-en``) is downloaded from; read from
            ``<mirror>/`` :data:`MUSE_MIRROR` ``/<pair>.txt`` under a mirror.
        codes: MUSE's code where it differs from ours (``{nb: no}``: MUSE has Norwegian as no).
        local: A folder of ``<pair>.txt`` files read instead of the URL and the mirror.
        convert: An OpenCC conversion applied to a language's two files, e.g. ``{zh: t2s}``:
            MUSE's Chinese is in traditional script, while NLLB's ``zho_Hans`` (and the
            translated questions that are switched) are simplified.
    """

    url: str = MUSE_URL
    codes: dict = field(default_factory=dict)
    local: str | None = None
    convert: dict = field(default_factory=dict)

    def __post_init__(self):
        if "{pair}" not in self.url:
            raise ValueError(f"url: {self.url!r} has no {{pair}} to fill in")
        for lang, name in self.convert.items():
            if name not in OPENCC:
                raise ValueError(
                    f"convert.{lang}: unknown OpenCC conversion {name!r}; known: {OPENCC}"
                )


#: CoCoA-MT's files per domain: our column name -> the file name's suffix after the pair.
COCOA_FILES = {
    "source": "",
    "formal": ".formal",
    "informal": ".informal",
    "formal_annotated": ".formal.annotated",
    "informal_annotated": ".informal.annotated",
}


@dataclass
class CocoaSpec:
    """CoCoA-MT's formality test: line-aligned plain-text files in a GitHub repository.

    The files are ``<folder>/formality-control.test.<domain>.<pair><suffix>``, one per suffix of
    :data:`COCOA_FILES`: the sources, the two references, and the two references with their
    formality phrases marked ``[F]...[/F]`` (what CoCoA-MT's phrase-level scorer reads).

    Attributes:
        repo: GitHub ``owner/name``; read from ``<mirror>/<repo>`` under a mirror.
        revision: Branch, tag or commit sha; ignored for a mirror folder or ``local``.
        folder: Folder of the files in the repository.
        pair: Language pair ``<src>-<tgt>``.
        domains: Test domains, one group of three files each.
        local: A local folder holding the files, read instead of GitHub and the mirror.
    """

    repo: str = "amazon-science/contrastive-controlled-mt"
    revision: str = "main"
    folder: str = "CoCoA-MT/test/en-de"
    pair: str = "en-de"
    domains: list = field(default_factory=lambda: ["call_center", "telephony", "topical_chat"])
    local: str | None = None


@dataclass
class MtBenchSpec:
    """MT-Bench's two-turn questions: FastChat's ``question.jsonl`` in its GitHub repository.

    Each line is ``{"question_id": int, "category": str, "turns": [str, str], ...}``.

    Attributes:
        repo: GitHub ``owner/name``; read from ``<mirror>/<repo>/<path>`` under a mirror.
        revision: Branch, tag or commit sha; ignored for a mirror folder or ``local``.
        path: The file in the repository.
        local: A local copy of the file, read instead of GitHub and the mirror.
    """

    repo: str = "lm-sys/FastChat"
    revision: str = FASTCHAT_REVISION
    path: str = "fastchat/llm_judge/data/mt_bench/question.jsonl"
    local: str | None = None


def mirror_folder(mirror: str, repo: str, where: str) -> Path:
    """``<mirror>/<repo>``, with a one-line error naming the dataset if it is missing."""
    path = Path(mirror) / repo
    if not path.is_dir():
        raise RadisError(f"{where}: {repo}: mirror folder {path} not found (fetch.mirror)")
    return path


def resolve_commit(repo_id: str, revision: str | None, repo_type: str = "model") -> str:
    """The commit sha a hub repository's ``revision`` points to now (a sha is returned as it is).

    ``revision`` is a branch, tag or sha; None is the default branch.
    """
    if revision and COMMIT.fullmatch(revision):
        return revision
    from huggingface_hub import HfApi

    return HfApi().repo_info(repo_id, revision=revision, repo_type=repo_type).sha


def commit_metrics() -> dict[str, str]:
    """:data:`COMMITS` as flat metrics keys ``commit.<repo id>``, sorted."""
    return {f"commit.{repo}": sha for repo, sha in sorted(COMMITS.items())}


def write_commits(folder: Path) -> None:
    """Write :data:`COMMITS` to ``folder/commits.json`` when a hub repository was read."""
    if COMMITS:
        (Path(folder) / "commits.json").write_text(json.dumps(commit_metrics(), indent=2) + "\n")


def model_commit(repo_id: str) -> str:
    """Record in :data:`COMMITS` the commit that loading hub model ``repo_id`` by id reads.

    ``from_pretrained(repo_id)`` reads the snapshot its default branch points to; the snapshot
    folder of its ``config.json`` in the local hub cache is named by that commit (offline too).
    """
    from huggingface_hub import hf_hub_download

    try:
        config = Path(hf_hub_download(repo_id, "config.json"))
    except Exception as err:  # noqa: BLE001 - any failure of the hub call is one line
        raise RadisError(
            f"{repo_id}: cannot read the hub model's config.json "
            f"({type(err).__name__}: {_first_line(err)})"
        ) from None
    COMMITS[repo_id] = config.parent.name
    return COMMITS[repo_id]


def pin(repo: str, revision: str | None, where: str) -> str:
    """Resolve dataset ``repo`` at ``revision`` to its commit, record it in :data:`COMMITS`."""
    try:
        COMMITS[repo] = resolve_commit(repo, revision, "dataset")
    except Exception as err:  # noqa: BLE001 - any failure of the hub call is one line
        raise RadisError(
            f"{where}: {repo}: cannot resolve revision {revision!r} to a commit "
            f"({type(err).__name__}: {_first_line(err)}); offline, pin a commit sha"
        ) from None
    return COMMITS[repo]


def load_split(
    repo: str, config: str | None, split: str, revision: str | None, mirror: str | None, where: str
) -> pd.DataFrame:
    """One split of a hub dataset (or of its mirror folder) as a DataFrame.

    A hub dataset is read at the commit its revision resolves to (:func:`pin`).
    """
    import datasets  # here, not at the top: the toy source never needs it

    if mirror:
        path, kwargs = str(mirror_folder(mirror, repo, where)), {}
    else:
        path, kwargs = repo, {"revision": pin(repo, revision, where)}
    try:
        ds = datasets.load_dataset(path, config, split=split, **kwargs)
    except LOAD_ERRORS as err:
        raise RadisError(
            f"{where}: {repo} (config {config!r}, split {split!r}): {_first_line(err)}"
        ) from None
    return ds.to_pandas()


def load_spec(spec: DatasetSpec, mirror: str | None, where: str) -> pd.DataFrame:
    """The rows of ``spec``: its local file, a file of its repository, or its split."""
    if spec.local:
        return read_file(Path(spec.local), f"{where}: {spec.id}")
    if spec.file:
        return read_file(_repo_file(spec, mirror, where), f"{where}: {spec.id}")
    return load_split(spec.id, spec.config, spec.split, spec.revision, mirror, where)


def _repo_file(spec: DatasetSpec, mirror: str | None, where: str) -> Path:
    if mirror:
        return mirror_folder(mirror, spec.id, where) / spec.file
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError

    sha = pin(spec.id, spec.revision, where)
    try:
        return Path(hf_hub_download(spec.id, spec.file, repo_type="dataset", revision=sha))
    except (*LOAD_ERRORS, EntryNotFoundError) as err:
        raise RadisError(f"{where}: {spec.id} (file {spec.file!r}): {_first_line(err)}") from None


def read_file(path: Path, where: str) -> pd.DataFrame:
    """Rows of a JSON array, JSON lines or Parquet file."""
    if not path.is_file():
        raise RadisError(f"{where}: {path}: file not found")
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    text = path.read_text(encoding="utf-8")
    try:
        if text.lstrip().startswith("["):
            rows = json.loads(text)
        else:
            rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as err:
        raise RadisError(f"{where}: {path}: invalid JSON ({err})") from None
    return pd.DataFrame(rows)


def frame(
    df: pd.DataFrame, name: str, columns: list[str], renames: dict, where: str
) -> pd.DataFrame:
    """``columns`` of ``df`` (source names through ``renames``) as strings, ids ``<name>-<row>``.

    Raises:
        RadisError: If a column is missing, naming it and the columns found.
    """
    out = pd.DataFrame({"id": [f"{name}-{i:06d}" for i in range(len(df))]})
    for col in columns:
        source = renames.get(col, col)
        if source is None:
            out[col] = ""
        elif source not in df.columns:
            raise RadisError(
                f"{where}: missing column {source!r}; found {sorted(map(str, df.columns))}"
            )
        else:
            out[col] = _strings(df[source])
    return out


def _strings(values) -> list[str]:
    return [_text(v) for v in values]


def _text(value) -> str:
    """A cell as text; a missing value (None, NaN) is the empty string."""
    return "" if value is None or value != value else str(value)  # NaN != NaN


def instruction_rows(df: pd.DataFrame) -> pd.DataFrame:
    """Alpaca-format rows (id, instruction, input, output) to SFT rows (id, prompt, completion).

    The prompt is the instruction, followed by :data:`INPUT_JOIN` and the input when the input is
    not blank.
    """
    prompts = [
        i.strip() if not x.strip() else f"{i.strip()}{INPUT_JOIN}{x.strip()}"
        for i, x in zip(df.instruction, df.input)
    ]
    return pd.DataFrame({"id": df.id, "prompt": prompts, "completion": df.output})


def translation_rows(
    spec: TranslationSpec, languages: list[str], label: str, mirror: str | None, where: str
) -> pd.DataFrame:
    """TRANSLATION rows of every config of ``spec``, with ``split`` = ``label``.

    Ids are ``<label>-<src>-<tgt>-<row>``, ``row`` the pair's number in its config's split.
    """
    rows = []
    for config, ours in _configs(spec, languages, where):
        a, b = config.split("-")
        df = load_split(spec.id, config, spec.split, spec.revision, mirror, where)
        pairs = _pairs(df, (a, b), f"{where}: {spec.id} (config {config!r})")
        directions = [(a, b), (b, a)] if spec.both_directions else [(a, b)]
        for i, pair in enumerate(pairs):
            rows += [
                dict(
                    id=f"{label}-{ours.get(src, src)}-{ours.get(tgt, tgt)}-{i:06d}",
                    split=label,
                    src_lang=ours.get(src, src),
                    tgt_lang=ours.get(tgt, tgt),
                    source=_text(pair[src]),
                    reference=_text(pair[tgt]),
                )
                for src, tgt in directions
            ]
    return pd.DataFrame(
        rows, columns=["id", "split", "src_lang", "tgt_lang", "source", "reference"]
    )


def _configs(spec: TranslationSpec, languages: list[str], where: str) -> list[tuple[str, dict]]:
    """``spec``'s configs, each with its map from the dataset's language codes to ours."""
    if spec.configs:
        for config in spec.configs:
            _config_pair(config, where)  # raises if malformed
        return [(c, {}) for c in spec.configs]
    out = []
    for x in languages:
        code = spec.codes.get(x, x)
        if spec.naming == "sorted":
            names = ["-".join(sorted(("en", code)))]
        else:
            names = [f"{code}-en"] + ([] if spec.both_directions else [f"en-{code}"])
        out += [(name, {code: x}) for name in names]
    return out


def _config_pair(config: str, where: str) -> tuple[str, str]:
    parts = config.split("-")
    if len(parts) != 2:
        raise RadisError(f"{where}.configs: {config!r} is not '<src>-<tgt>'")
    for code in parts:
        language_name(code, f"{where}.configs: {config!r}")
    return parts[0], parts[1]


def _pairs(df: pd.DataFrame, langs: tuple[str, str], where: str) -> list[dict]:
    if PAIR_COLUMN not in df.columns:
        raise RadisError(
            f"{where}: missing column {PAIR_COLUMN!r}; found {sorted(map(str, df.columns))}"
        )
    pairs = [p or {} for p in df[PAIR_COLUMN]]
    fields = set().union(*pairs) if pairs else set(langs)
    missing = [x for x in langs if x not in fields]
    if missing:
        raise RadisError(
            f"{where}: column {PAIR_COLUMN!r} has no field(s) {missing}; found {sorted(fields)}"
        )
    return [{x: p.get(x) for x in langs} for p in pairs]


def parallel_rows(
    spec: ParallelSpec, languages: list[str], mirror: str | None, where: str
) -> pd.DataFrame:
    """TRANSLATION rows en → x of every language's config, split ``train``, all pairs.

    Ids are ``parallel-en-<x>-<row>``, ``row`` the pair's number in its config's split.
    """
    parts = []
    for lang in languages:
        config = spec.configs.get(lang) or "-".join(sorted(("en", lang)))
        codes = config.split("-")
        if len(codes) != 2 or "en" not in codes or codes[0] == codes[1]:
            raise RadisError(f"{where}.configs: {config!r} is not 'en-<x>' or '<x>-en'")
        other = codes[1] if codes[0] == "en" else codes[0]
        df = load_split(spec.id, config, spec.split, spec.revision, mirror, where)
        pairs = _pairs(df, ("en", other), f"{where}: {spec.id} (config {config!r})")
        parts.append(
            pd.DataFrame(
                {
                    "id": [f"parallel-en-{lang}-{i:07d}" for i in range(len(pairs))],
                    "split": "train",
                    "src_lang": "en",
                    "tgt_lang": lang,
                    "source": [_text(p["en"]) for p in pairs],
                    "reference": [_text(p[other]) for p in pairs],
                }
            )
        )
    return pd.concat(parts, ignore_index=True)


def sample_pairs(rows: pd.DataFrame, n: int | None, seed: int, where: str) -> pd.DataFrame:
    """``n`` rows per ``tgt_lang``, drawn from ``Random(f"parallel-fetch:{seed}:{lang}")``.

    The sample keeps the rows' order; ``n`` None keeps every row.

    Raises:
        RadisError: If a language has fewer than ``n`` rows.
    """
    if n is None:
        return rows
    parts = []
    for lang, group in rows.groupby("tgt_lang", sort=False):
        if len(group) < n:
            raise RadisError(f"{where}.pairs: {n} asked, en-{lang} has {len(group)} usable pairs")
        keep = sorted(random.Random(f"parallel-fetch:{seed}:{lang}").sample(range(len(group)), n))
        parts.append(group.iloc[keep])
    return pd.concat(parts, ignore_index=True)


def dictionary_texts(
    spec: DictionarySpec, languages: list[str], mirror: str | None, where: str
) -> dict[str, str]:
    """The text of ``en-<x>.txt`` and ``<x>-en.txt`` for every language, by our file name.

    Raises:
        RadisError: If a file cannot be read, naming the language and where it was looked for.
    """
    texts = {}
    for lang in languages:
        code = spec.codes.get(lang, lang)
        for ours, pair in ((f"en-{lang}", f"en-{code}"), (f"{lang}-en", f"{code}-en")):
            text = _dictionary_text(spec, pair, mirror, f"{where}: {lang!r}")
            if lang in spec.convert:
                import opencc

                text = opencc.OpenCC(spec.convert[lang]).convert(text)
            texts[f"{ours}.txt"] = text
    return texts


def _dictionary_text(spec: DictionarySpec, pair: str, mirror: str | None, where: str) -> str:
    if spec.local or mirror:
        root = Path(spec.local) if spec.local else Path(mirror) / MUSE_MIRROR
        path = root / f"{pair}.txt"
        if not path.is_file():
            raise RadisError(f"{where}: no dictionary {pair}.txt: {path} not found")
        return path.read_text(encoding="utf-8")
    return _url_text(spec.url.format(pair=pair), f"{where}: no dictionary {pair}.txt")


def cocoa_rows(spec: CocoaSpec, mirror: str | None, where: str) -> pd.DataFrame:
    """CoCoA-MT rows (id, domain, src_lang, tgt_lang, then :data:`COCOA_FILES`), ids by line.

    Raises:
        RadisError: If a domain's files differ in their number of lines.
    """
    src_lang, tgt_lang = _config_pair(spec.pair, where)
    rows = []
    for domain in spec.domains:
        stem = f"formality-control.test.{domain}.{spec.pair}"
        texts = {col: _lines(spec, stem + sfx, mirror, where) for col, sfx in COCOA_FILES.items()}
        counts = {stem + COCOA_FILES[col]: len(lines) for col, lines in texts.items()}
        if len(set(counts.values())) > 1:
            raise RadisError(f"{where}: {counts} lines; expected line-aligned files")
        rows += [
            dict(id=f"cocoa-{domain}-{i:05d}", domain=domain, src_lang=src_lang, tgt_lang=tgt_lang)
            | dict(zip(texts, line))
            for i, line in enumerate(zip(*texts.values()))
        ]
    return pd.DataFrame(rows, columns=["id", "domain", "src_lang", "tgt_lang", *COCOA_FILES])


def _lines(spec: CocoaSpec, name: str, mirror: str | None, where: str) -> list[str]:
    """The lines of one CoCoA-MT file: from ``local``, the mirror, or GitHub at ``revision``."""
    if spec.local or mirror:
        root = Path(spec.local) if spec.local else mirror_folder(mirror, spec.repo, where)
        path = root / name if spec.local else root / spec.folder / name
        text = _read_text(path, f"{where}: {spec.repo}")
    else:
        text = _github_text(spec.repo, spec.revision, f"{spec.folder}/{name}", where)
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def mt_bench_rows(spec: MtBenchSpec, mirror: str | None, where: str) -> pd.DataFrame:
    """MT-Bench rows (question_id, category, turn_1, turn_2), in the file's order.

    Raises:
        RadisError: If a line is not JSON, lacks a field, has other than two turns, or repeats a
            question id; naming the file and line.
    """
    text, source = _mt_bench_text(spec, mirror, where)
    rows = []
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            rows.append(_mt_bench_question(line, f"{where}: {source}: line {n}"))
    table = pd.DataFrame(rows, columns=["question_id", "category", "turn_1", "turn_2"])
    dup = table.question_id[table.question_id.duplicated()]
    if len(dup):
        raise RadisError(f"{where}: {source}: question_id {dup.iloc[0]} twice")
    return table


def _mt_bench_text(spec: MtBenchSpec, mirror: str | None, where: str) -> tuple[str, str]:
    """The text of ``question.jsonl`` (from ``local``, the mirror or GitHub) and where it was."""
    if spec.local:
        path = Path(spec.local)
    elif mirror:
        path = mirror_folder(mirror, spec.repo, where) / spec.path
    else:
        text = _github_text(spec.repo, spec.revision, spec.path, where)
        return text, f"{spec.repo}/{spec.path}"
    return _read_text(path, f"{where}: {spec.repo}"), str(path)


def _mt_bench_question(line: str, where: str) -> dict:
    """One line of ``question.jsonl`` as a row with the two turns in their own columns."""
    try:
        q = json.loads(line)
    except json.JSONDecodeError as err:
        raise RadisError(f"{where}: invalid JSON ({err})") from None
    if not isinstance(q, dict) or not {"question_id", "category", "turns"} <= set(q):
        raise RadisError(f"{where}: expected the fields question_id, category, turns")
    turns = q["turns"]
    if not isinstance(q["question_id"], int) or not isinstance(turns, list) or len(turns) != 2:
        raise RadisError(f"{where}: expected an integer question_id and a list of two turns")
    return dict(
        question_id=q["question_id"],
        category=_text(q["category"]),
        turn_1=_text(turns[0]),
        turn_2=_text(turns[1]),
    )


def _read_text(path: Path, where: str) -> str:
    if not path.is_file():
        raise RadisError(f"{where}: {path}: file not found")
    return path.read_text(encoding="utf-8")


def _github_text(repo: str, revision: str, path: str, where: str) -> str:
    """A file of GitHub repository ``repo`` at ``revision``, downloaded as text."""
    return _url_text(GITHUB_RAW.format(repo=repo, revision=revision, path=path), f"{where}: {repo}")


def _url_text(url: str, where: str) -> str:
    """The UTF-8 text at ``url``; a failed download is one line naming ``where`` and the URL."""
    try:
        with urlopen(url, timeout=60) as response:
            return response.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise RadisError(f"{where}: {url}: {_first_line(err)}") from None


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__
