"""Resource bounds: streaming keeps memory flat on huge inputs; pathological answers finish."""
import subprocess
import sys
import time

import pytest

import stancekit


def _peak_rss_mb_of_cli(path, *extra):
    # VmHWM is this process image's peak; ru_maxrss would still count the forking parent after exec
    code = (
        "from stancekit.cli import main\n"
        f"rc = main(['classify', {str(path)!r}, '--model', 'rules', '--format', 'jsonl', '-o', '/dev/null'])\n"
        "hwm = [l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
        "print(rc, int(hwm) / 1024)\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr
    rc, rss = r.stdout.split()
    assert rc == "0"
    return float(rss)


def _write_lines(path, n):
    # 35 distinct lines in rotation: realistic vocabulary growth is bounded, unlike a unique number per
    # line, which would grow spaCy's string store and measure that instead of the streaming
    phrases = ["No.", "Yes, we did.", "I'm not aware of that.", "That is groundless.", "We welcome it."]
    tails = ["", " Next question.", " Thank you.", " As I said.", " Please.", " Indeed.", " Go ahead."]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(f"{phrases[i % 5]}{tails[i % 7]}\n")
    return path


@pytest.mark.slow
def test_memory_stays_flat_from_100k_to_1m_lines(tmp_path):
    small = _peak_rss_mb_of_cli(_write_lines(tmp_path / "100k.txt", 100_000))
    big = _peak_rss_mb_of_cli(_write_lines(tmp_path / "1m.txt", 1_000_000))
    # ten times the rows, (nearly) the same memory: the CLI streams, it does not load everything
    assert big < small * 1.25 + 20, (small, big)


def test_one_100k_token_answer_finishes_in_bounded_time():
    clf = stancekit.load("rules")
    answer = "China's position is consistent and clear, and we firmly oppose the so-called report. " * 7_000
    assert len(answer.split()) >= 90_000
    start = time.perf_counter()
    result = clf.classify(answer, "Is the report true?")
    assert time.perf_counter() - start < 60
    assert result.label == "deny" and len(result.evidence) > 1000


def test_text_over_the_limit_is_an_error_row_not_minutes_of_work():
    from stancekit.api import MAX_TEXT_CHARS

    clf = stancekit.load("rules")
    start = time.perf_counter()
    result = clf.classify("x" * (MAX_TEXT_CHARS + 1))
    assert time.perf_counter() - start < 5
    assert result.label is None and "too long" in result.error
