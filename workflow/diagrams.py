"""The process diagram (viewflow's chart of the flow) and the case state machine (DOT)."""

from __future__ import annotations

from viewflow.workflow import chart

from rebuttal.models import RebuttalCase, Status
from workflow.flows import RebuttalFlow


def flow_svg() -> str:
    """The flow graph as SVG, laid out by viewflow itself (no Graphviz needed)."""
    return chart.grid_to_svg(chart.calc_layout_data(RebuttalFlow))


def fsm_transitions() -> list[tuple[str, str, str]]:
    """Every (source, transition, target) of the case's state machine, in lifecycle order."""
    order = {value: i for i, value in enumerate(Status.values)}
    field = RebuttalCase._meta.get_field("status")
    edges = {(t.source, t.name, t.target) for t in field.get_all_transitions(RebuttalCase)}
    return sorted(edges, key=lambda e: (order.get(e[0], 99), order.get(e[2], 99), e[1]))


def fsm_dot() -> str:
    """The state machine in Graphviz DOT (render with ``dot -Tsvg`` where Graphviz is installed)."""
    lines = ["digraph rebuttal_case {", "  rankdir=LR;", "  node [shape=box, style=rounded];"]
    for status in Status.values:
        shape = ", peripheries=2" if status in ("closed", "not_receivable", "withdrawn") else ""
        lines.append(f'  "{status}" [label="{status}"{shape}];')
    lines += [f'  "{src}" -> "{dst}" [label="{name}"];' for src, name, dst in fsm_transitions()]
    lines.append("}")
    return "\n".join(lines) + "\n"
