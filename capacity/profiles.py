"""Load profiles: conversations per minute over the modelled period, from a named shape or a file.

Every profile is a list of conversations per minute (conversations whose first end event arrives in
that minute). The named ones cover one day (1,440 minutes) and are scaled so that their busiest
normal hour runs at --peak-conversations-per-hour:

- flat:  the peak rate all day long (a stress figure: 24 x the peak per day)
- day:   an inbound contact centre's intraday curve, DAY_SHAPE below (quiet night, morning ramp, a
         peak at 10:00-11:00, a lunch dip, a second peak at 14:00-15:00, an evening tail)
- spike: the day curve plus a burst at SPIKE_MULTIPLIER x the peak rate for SPIKE_MINUTES from
         SPIKE_START_MINUTE (a storm, an outage elsewhere, a campaign)

A profile file (--profile-file) is a per-minute series: one number per line (conversations in that
minute) or `minute,conversations` lines with minutes 0, 1, 2, ... in order; blank lines and lines
starting with `#` are ignored, and a first line `minute,conversations` is taken as a header. Its
rates are held to PEAK_RANGE, as --peak-conversations-per-hour is.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

MINUTES_PER_DAY = 24 * 60
MAX_PROFILE_MINUTES = 7 * MINUTES_PER_DAY
# Share of the peak hour's rate in each hour of the day (00:00-01:00 first): inbound service centres
# see about 2-5 % of the peak overnight, a morning peak, a lunch dip and a smaller afternoon peak.
DAY_SHAPE = (
    0.03, 0.02, 0.02, 0.02, 0.03, 0.06, 0.15, 0.40, 0.75, 0.95, 1.00, 0.95,
    0.80, 0.85, 0.95, 0.90, 0.80, 0.65, 0.45, 0.30, 0.20, 0.12, 0.07, 0.04,
)  # fmt: skip
SPIKE_MULTIPLIER = 10.0
SPIKE_MINUTES = 15
SPIKE_START_MINUTE = 10 * 60 + 30  # 10:30, inside the day's peak hour
NAMES = ("flat", "day", "spike")
# Rates a contact centre can have, in conversations per hour (10 M/h is 2,800 a second): beyond them a
# figure is a typo. --peak-conversations-per-hour and a profile file's minutes are held to them alike.
PEAK_RANGE = (1.0, 10_000_000.0)


class ProfileError(ValueError):
    """A profile name, rate or file that cannot be modelled; the message names the value and range."""


@dataclass(frozen=True)
class Profile:
    name: str
    per_minute: tuple[float, ...]  # conversations in each minute

    @property
    def total(self) -> float:
        return sum(self.per_minute)

    @property
    def minutes(self) -> int:
        return len(self.per_minute)

    @property
    def peak_per_hour(self) -> float:
        return max(self.per_minute) * 60


def _day(peak_per_hour: float) -> list[float]:
    """The day shape at one value per minute: flat within each hour, so the busiest hour holds exactly
    peak_per_hour conversations and the day's total is sum(DAY_SHAPE) x peak_per_hour."""
    return [DAY_SHAPE[minute // 60] * peak_per_hour / 60 for minute in range(MINUTES_PER_DAY)]


def named_profile(name: str, peak_per_hour: float) -> Profile:
    if name not in NAMES:
        raise ProfileError(f"unknown profile {name!r}; allowed: {', '.join(NAMES)} (or --profile-file)")
    if name == "flat":
        return Profile(name, tuple([peak_per_hour / 60] * MINUTES_PER_DAY))
    minutes = _day(peak_per_hour)
    if name == "spike":
        for minute in range(SPIKE_START_MINUTE, SPIKE_START_MINUTE + SPIKE_MINUTES):
            minutes[minute] = SPIKE_MULTIPLIER * peak_per_hour / 60
    return Profile(name, tuple(minutes))


def _parse_number(text: str, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ProfileError(
            f"{where}: {text!r} is not a number (conversations in that minute, >= 0)"
        ) from None
    if not math.isfinite(value) or value < 0:
        raise ProfileError(f"{where}: {text!r} is not a count of conversations (allowed: 0 or more)")
    if value * 60 > PEAK_RANGE[1]:
        raise ProfileError(
            f"{where}: {text} conversations in a minute is beyond {PEAK_RANGE[1]:,.0f} an hour"
            f" (allowed {PEAK_RANGE[0]:g}..{PEAK_RANGE[1]:,.0f} conversations per hour)"
        )
    return value


def parse_profile_text(text: str, source: str = "profile file") -> Profile:
    values: list[float] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{source} line {number}"
        if "," in line:
            cells = [cell.strip() for cell in line.split(",")]
            if len(cells) != 2:
                raise ProfileError(
                    f"{where}: {line!r} has {len(cells)} fields; expected minute,conversations"
                )
            if not values and cells[0].lower() == "minute":
                continue  # the header
            try:
                minute = int(cells[0])
            except ValueError:
                raise ProfileError(f"{where}: minute {cells[0]!r} is not a whole number") from None
            if minute != len(values):
                raise ProfileError(
                    f"{where}: minute {minute} out of order; expected minute {len(values)} (0, 1, 2, ...)"
                )
            values.append(_parse_number(cells[1], where))
        else:
            values.append(_parse_number(line, where))
        if len(values) > MAX_PROFILE_MINUTES:
            raise ProfileError(
                f"{source}: more than {MAX_PROFILE_MINUTES} minutes (7 days);"
                f" allowed 1..{MAX_PROFILE_MINUTES}"
            )
    if not values:
        raise ProfileError(
            f"{source}: no minutes; expected one number per line or minute,conversations lines"
        )
    if not any(values):
        raise ProfileError(f"{source}: every minute is 0; a profile needs some conversations")
    return Profile(f"file:{source}", tuple(values))


def load_profile_file(path: Path, peak_per_hour: float | None) -> Profile:
    """The file's series; rescaled so its busiest minute runs at peak_per_hour / 60 when one is given."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ProfileError(f"profile file {path}: cannot be read ({error})") from None
    profile = parse_profile_text(text, str(path))
    if peak_per_hour is None:
        if profile.peak_per_hour < PEAK_RANGE[0]:
            raise ProfileError(
                f"profile file {path}: its busiest minute runs at {profile.peak_per_hour:g} conversations an"
                f" hour: allowed {PEAK_RANGE[0]:g}..{PEAK_RANGE[1]:,.0f} (or rescale it with"
                " --peak-conversations-per-hour)"
            )
        return profile
    scale = peak_per_hour / profile.peak_per_hour
    return Profile(profile.name, tuple(value * scale for value in profile.per_minute))
