"""The ops commands' results as text for a person (`--json` prints the results themselves)."""

from __future__ import annotations

from typing import Any


def _depth(entry: dict[str, Any]) -> str:
    return f"{entry['visible']:>8} {entry['in_flight']:>9} {entry['delayed']:>8}"


def render_status(result: dict[str, Any]) -> str:
    lines = [f"Stack {result['stack']} ({result['stack_status']})", ""]
    lines.append(f"  {'queue':<20} {'visible':>8} {'in flight':>9} {'delayed':>8}  holds")
    for entry in result["queues"]:
        if entry.get("missing"):
            lines.append(f"  {entry['name']:<20} {'(no output: deployed from an older version)':>27}")
            continue
        flag = "  <- needs an operator" if entry["dead_letter"] and entry["visible"] else ""
        lines.append(f"  {entry['name']:<20} {_depth(entry)}  {entry['holds']}{flag}")
    reasons = [entry for entry in result["queues"] if entry.get("reasons")]
    if reasons:
        lines += ["", "Dead-letter reasons (from a sample; every message left in place)"]
        for entry in reasons:
            lines.append(f"  {entry['name']} ({entry['sampled']} of ~{entry['visible']} read):")
            lines += [f"    {count:>6}  {reason}" for reason, count in entry["reasons"].items()]
    lines.append("")
    if result["alarms"]:
        lines.append(f"Alarms in ALARM ({len(result['alarms'])})")
        for alarm in result["alarms"]:
            lines.append(f"  {alarm['name']}  since {alarm['since'] or '?'}")
            if alarm["description"]:
                lines.append(f"      {alarm['description']}")
    else:
        lines.append("No alarm in ALARM")
    return "\n".join(lines)


def render_redrive(result: dict[str, Any]) -> str:
    lines = [f"Redrive {result['queue']} -> {result['to']} ({result['how']})"]
    for when in ("before", "after"):
        depths = ", ".join(
            f"{name}: {d['visible']} visible, {d['in_flight']} in flight" for name, d in result[when].items()
        )
        lines.append(f"  {when:<6} {depths}")
    if "replayed" in result:
        lines.append(f"  replayed {result['replayed']}")
        for why, count in result["kept"].items():
            lines.append(f"  kept {count}: {why}")
    elif result.get("task") is None:
        lines.append("  nothing to move")
    else:
        task = result["task"]
        state = "finished" if result["finished"] else "still running (counts above are from now)"
        lines.append(
            f"  move task {task.get('Status', '?')}, {result['moved']} moved"
            f" of ~{task.get('ApproximateNumberOfMessagesToMove', '?')}: {state}"
        )
    return "\n".join(lines)


def render_refetch(result: dict[str, Any]) -> str:
    return f"Sent {result['sent']} conversation id(s) to the {result['queue']} queue"


def render_quarantine(result: dict[str, Any]) -> str:
    lines = [
        f"Quarantine: {result['visible']} visible, {result['in_flight']} in flight "
        f"({result['sampled']} read, every message left in place)"
    ]
    for reason, group in result["reasons"].items():
        sample = group["sample"]
        lines += ["", f"  {reason}: {group['count']}"]
        if sample.get("message"):
            lines.append(f"    message: {sample['message']}")
        lines.append(
            f"    event:   {sample['event']}"
            + ("  (truncated in quarantine)" if sample.get("truncated") else "")
        )
    return "\n".join(lines)


def render_conversation(result: dict[str, Any]) -> str:
    lines = [f"Conversation {result['conversationId']}"]
    item = result["item"]
    if item is None:
        lines.append("  buffer item: none (never received, or removed by its TTL)")
    else:
        lines.append("  buffer item:")
        lines += [f"    {name:<12} {value}" for name, value in item.items() if value is not None]
    landed = result["object"]
    if landed is not None:
        lines.append("  landed object:")
        lines += [
            f"    {name:<12} {value}"
            for name, value in landed.items()
            if value is not None and name != "metadata"
        ]
        if landed.get("metadata"):
            lines.append(f"    metadata     {landed['metadata']}")
    elif result["lookedUp"] is not None:
        lines.append(f"  landed object: none at {result['lookedUp']}")
    else:
        lines.append(
            "  landed object: unknown (no resultKey; pass --date YYYY-MM-DD, the conversation's start)"
        )
    return "\n".join(lines)
