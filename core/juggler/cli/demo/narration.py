"""How the demo tells each step: a numbered heading, the answer, what happened in one
line, models_used and the health table. Shared by the call steps and the resilience steps."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.markup import escape

from juggler.cli.demo.fleet import story_line
from juggler.cli.tables import health_table, models_used_table

__all__ = ["Story"]


class Story:
    """Prints the steps; ``health`` gives the health figures shown after each step."""

    def __init__(self, out: Console, health: Callable[[], Any]) -> None:
        self.out = out
        self.health = health
        self.number = 0

    def heading(self, title: str, why: str) -> None:
        """A numbered heading and one line of explanation."""
        self.number += 1
        self.out.print()
        self.out.rule(f"[bold cyan]{self.number}. {escape(title)}", align="left")
        self.out.print(f"[italic]{escape(why)}[/]")

    def result(self, answer: str, attempts: Sequence[Any], *, show_answer: bool = True) -> None:
        """The answer, what happened in one line, models_used and the health table."""
        if show_answer:
            self.out.print(f"[bold]answer:[/] {escape(answer)}")
        self.out.print(f"[green]→[/] {escape(story_line(attempts))}")
        self.out.print(models_used_table(attempts))
        self.out.print(health_table(self.health(), active_only=True))

    def skip(self, why: str) -> None:
        """A step that cannot run here, and why."""
        self.out.print(f"[yellow]skipped:[/] {escape(why)}")
