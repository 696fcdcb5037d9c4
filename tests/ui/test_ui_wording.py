"""What the wizard says: saves, labels, the start screen's presets, a refused preset, a stack change."""

from __future__ import annotations

import io
import re

import pytest
from conftest import type_text, wait_for
from rich.console import Console
from textual.widgets import Input, OptionList, Select, Static

from hawizard.design.preset_file import load_preset, shipped_presets
from hawizard.ui.app import HawizardApp
from hawizard.ui.design import DesignScreen
from hawizard.ui.fieldpaths import field_info
from hawizard.ui.forms import FieldRow, field_id, label_for
from hawizard.ui.questions import SECTIONS
from hawizard.ui.review import ReviewScreen
from hawizard.ui.start import StartScreen


def review_ready(app) -> bool:
    return isinstance(app.screen, ReviewScreen) and app.screen.prepared is not None


def status(app) -> str:
    return str(app.screen.query_one("#review-status", Static).render())


async def save_as(pilot, app, name: str) -> str:
    await pilot.press("s")
    await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
    await pilot.press("ctrl+u")
    await type_text(pilot, name)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(app.screen, ReviewScreen) and "saved" in status(app).lower())
    return status(app)


# -- 2.11 saving says what happened to the file -----------------------------------------------------

async def test_saving_says_new_file_replaced_file_or_unchanged(tmp_path):
    app = HawizardApp(preset="article", initial="review")
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: review_ready(app))
        said = await save_as(pilot, app, "mine.toml")
        assert "backup" not in said and "new file" in said  # nothing was replaced
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith("mine.toml")] == ["mine.toml"]

        app.design.service.vip = "192.168.0.210"
        app.screen.query_one("#review-status", Static).update("")
        said = await save_as(pilot, app, "mine.toml")
        backups = [p.name for p in tmp_path.iterdir() if p.name.startswith("mine.toml.")]
        assert len(backups) == 1 and backups[0] in said  # the backup, by name

        app.screen.query_one("#review-status", Static).update("")
        said = await save_as(pilot, app, "mine.toml")
        assert "unchanged" in said and "backup" not in said


# -- 2.11 labels are words, not key names --------------------------------------------------------------

KEY_FRAGMENTS = re.compile(r"\b(Io|Sb|\dpri|Udpport|Ssh|Vip|Nic|Url|Drbd|Ip|Fs|Fstype|Ref|Ids|Ms|Initdead|"
                           r"Deadtime|Warntime|Logfacility|Logfile|Stonith)\b|_")


@pytest.mark.parametrize("stack", ["centos5-heartbeat", "debian12-crmsh"])
def test_labels_are_words(stack):
    design = load_preset("article")
    design.stack = stack
    labels = {path: label_for(field_info(design, path))
              for s in SECTIONS for path in s.entries(design) if isinstance(path, str)}
    # (known_hosts is the file's own name)
    bad = {path: label for path, label in labels.items() if KEY_FRAGMENTS.search(label.replace("known_hosts", ""))}
    assert not bad, bad
    named = {"answers.io_error": "I/O", "drbd.after_sb_0pri": "split, no primary", "nodes[0].ssh_host": "SSH host"}
    if stack == "centos5-heartbeat":
        named["heartbeat.udpport"] = "UDP port"
    for path, words in named.items():
        assert words.lower() in labels[path].lower(), (path, labels[path])
    assert all(len(label) <= 21 for label in labels.values()), labels  # one line in the form at 80x24


# -- 2.12 the start screen -----------------------------------------------------------------------------

def render_plain(renderable, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None, legacy_windows=False)
    console.print(renderable)
    return console.file.getvalue()


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_start_shows_each_preset_name_apart_from_its_stack_and_its_whole_description(size):
    app = HawizardApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        options = app.screen.query_one("#start-options", OptionList)
        width = options.scrollable_content_region.width
        for name in shipped_presets():
            design = load_preset(name)
            option = options.get_option(f"preset:{name}")
            text = render_plain(option.prompt, width)
            words = text.split()
            assert name in words and design.stack in words, text  # never run together
            first_word = design.description.split()[0]
            lines = text.splitlines()
            column = lines[0].index(first_word)  # where the description starts; it wraps in its own column
            described = " ".join(" ".join(line[column:].split()) for line in lines if line.strip())
            assert " ".join(design.description.split()) in described, text  # every sentence of it


# -- 2.13 a refused preset names file:line ---------------------------------------------------------------

async def test_open_file_errors_carry_file_and_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('schema_version = 1\nname = "x"\nstakc = "el9-pcs"\n')
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("o")
        await wait_for(pilot, lambda: app.screen.query("#prompt-input"))
        app.screen.query_one("#prompt-input", Input).value = str(bad)
        await pilot.press("enter")
        error = app.screen.query_one("#prompt-error", Static)
        await wait_for(pilot, lambda: "unknown key" in str(error.render()))
        assert f"{bad}:3:" in str(error.render())  # as the command line says it


async def test_a_broken_shipped_or_lab_preset_line_names_file_and_line(tmp_path, monkeypatch):
    """The same wording for a preset picked from the list (here: a lab preset file that is broken)."""
    bad = tmp_path / "lab.toml"
    bad.write_text('schema_version = 1\nname = "x"\n\nnodes = 3\n')
    app = HawizardApp()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        start = app.screen
        assert isinstance(start, StartScreen)
        start._load(str(bad))
        message = str(start.query_one("#start-message", Static).render())
        assert f"{bad}:4:" in message, message


# -- 2.6 changing the stack ----------------------------------------------------------------------------

async def test_changing_the_stack_moves_the_old_stacks_paths_and_flags_foreign_ones():
    app = HawizardApp(preset="article", initial="design")
    app.design.service.apache_agent = "lsb:httpd"  # the article's stack's own init agent
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("service.apache_config")  # the Service rows exist before the change
        await pilot.pause(0.2)
        await screen.goto("stack")
        await pilot.pause(0.2)
        screen.query_one(f"#{field_id('stack')} Select", Select).value = "debian12-crmsh"
        await wait_for(pilot, lambda: app.design.stack == "debian12-crmsh")
        await pilot.pause(0.2)
        assert app.design.service.apache_config == "/etc/apache2/apache2.conf"
        assert app.design.service.apache_agent == "systemd:apache2"
        stack_row = screen.query_one(f"#{field_id('stack')}", FieldRow)
        await wait_for(pilot, lambda: stack_row.query(".field-msg"))
        note = str(stack_row.query_one(".field-msg", Static).render())
        assert "/etc/apache2/apache2.conf" in note and "service.apache_config" in note  # the operator is told

        await screen.goto("service.apache_config")
        field = screen.query_one(f"#{field_id('service.apache_config')} Input", Input)
        await wait_for(pilot, lambda: app.focused is field)
        assert field.value == "/etc/apache2/apache2.conf"  # the row shows the new value
        field.value = "/etc/httpd/conf/httpd.conf"  # typed by hand: EL's path on a Debian stack
        await wait_for(pilot, lambda: app.design.service.apache_config == "/etc/httpd/conf/httpd.conf")
        row = screen.query_one(f"#{field_id('service.apache_config')}", FieldRow)
        await wait_for(pilot, lambda: row.query(".field-msg")
                       and "el9-pcs" in str(row.query_one(".field-msg", Static).render()))
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: review_ready(app))
        assert any(p.path == "service.apache_config" and p.severity == "warning" for p in app.screen.problems)


async def test_a_custom_path_is_kept_across_a_stack_change():
    app = HawizardApp(preset="article", initial="design")
    app.design.service.apache_config = "/opt/web/conf/httpd.conf"
    async with app.run_test(size=(80, 24)) as pilot:
        screen = app.screen
        await screen.goto("stack")
        await pilot.pause(0.2)
        screen.query_one(f"#{field_id('stack')} Select", Select).value = "el9-pcs"
        await wait_for(pilot, lambda: app.design.stack == "el9-pcs")
        await pilot.pause(0.2)
        assert app.design.service.apache_config == "/opt/web/conf/httpd.conf"
        assert isinstance(app.screen, DesignScreen)
