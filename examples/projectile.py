"""How far a projectile with air drag flies, and how that distance changes with the launch angle.

`landing_distance` steps the motion with quadratic drag in a `while` loop that runs until the
projectile is below the ground (how many steps depends on the angle and the speed), then
interpolates the last step to find where it crossed the ground. s2sad differentiates that loop
as written: `s2sad.grad(landing_distance, argnums=(0, 1))` gives the sensitivity of the
distance to the launch angle and to the speed (and `s2sad.jvp` the same in forward mode). The
script compares them with central finite differences at several angles, then finds the angle
of the longest throw, where the derivative changes sign (below 45 degrees with drag), by
Brent's method on s2sad's derivative.

    python examples/projectile.py [--small] [--plot projectile.png]

With matplotlib installed it plots the distance and its derivative against the angle.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from scipy.optimize import brentq

import s2sad

GRAVITY = 9.81  # m/s^2


def landing_distance(angle, speed, drag=0.01, dt=0.01):
    """Horizontal distance (m) at which a projectile launched from the ground at `angle` (rad)
    and `speed` (m/s) lands; `drag` is the quadratic drag coefficient per unit mass (1/m)."""
    x, y = 0.0, 0.0
    vx, vy = speed * math.cos(angle), speed * math.sin(angle)
    x_before, y_before = x, y
    while y >= 0.0:
        x_before, y_before = x, y
        v = math.sqrt(vx * vx + vy * vy)
        vx = vx - dt * drag * v * vx
        vy = vy - dt * (GRAVITY + drag * v * vy)
        x = x + dt * vx
        y = y + dt * vy
    # the ground was crossed during the last step: interpolate to y = 0
    return x_before + (x - x_before) * y_before / (y_before - y)


def slope(angle, speed, drag=0.01, dt=0.01):
    """d(distance)/d(angle), the function whose zero is the best angle."""
    return s2sad.grad(landing_distance)(angle, speed, drag, dt)


def central_difference(fun, args, i, step=1e-6):
    plus, minus = list(args), list(args)
    plus[i] += step
    minus[i] -= step
    return (fun(*plus) - fun(*minus)) / (2 * step)


def best_angle(speed, drag, dt):
    """The angle where the slope changes sign, by Brent's method on s2sad's derivative.

    Newton's method on the slope would need its derivative too, and here that misleads: the
    number of steps jumps with the angle, so the slope of the stepped model jumps a little at
    each such angle, and its derivative (d²/d angle², s2sad.grad of `slope`) sees only the
    smooth part between jumps. Bracketing the sign change needs nothing but the slope."""
    return brentq(slope, math.radians(20.0), math.radians(60.0), args=(speed, drag, dt), xtol=1e-12)


def plot_distance(path, angles, distances, slopes, best) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, left = plt.subplots(figsize=(6, 4))
    (by_angle,) = left.plot(np.degrees(angles), distances, label="distance (m)")
    left.set_xlabel("launch angle (degrees)")
    left.set_ylabel("distance (m)")
    left.axvline(math.degrees(best), color="grey", linewidth=0.8)
    right = left.twinx()
    (slope_line,) = right.plot(np.degrees(angles), np.radians(slopes), "C1", label="d distance / d angle (m/degree)")
    right.axhline(0.0, color="C1", linewidth=0.5)
    right.set_ylabel("m per degree")
    left.legend(handles=[by_angle, slope_line], loc="lower center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def main(small: bool = False, plot: str | None = "projectile.png") -> dict:
    """Sensitivities at 15, 30, 45, 60 and 75 degrees, then the best angle; `small` takes
    steps of 0.02 s instead of 0.002 s."""
    speed, drag, dt = 50.0, 0.01, (0.02 if small else 0.002)
    gradient = s2sad.grad(landing_distance, argnums=(0, 1))
    print(f"projectile at {speed} m/s, quadratic drag {drag} per m, time step {dt} s")
    print(f"{'angle':>6}{'distance':>10}{'d/d angle':>12}{'finite diff.':>14}{'d/d speed':>11}"
          f"{'finite diff.':>14}{'rel. diff.':>12}")
    rows = []
    for degrees in (15, 30, 45, 60, 75):
        args = (math.radians(degrees), speed, drag, dt)
        by_angle, by_speed = gradient(*args)
        fd_angle = central_difference(landing_distance, args, 0)
        fd_speed = central_difference(landing_distance, args, 1)
        difference = max(abs(by_angle - fd_angle) / abs(fd_angle), abs(by_speed - fd_speed) / abs(fd_speed))
        rows.append({"degrees": degrees, "distance": landing_distance(*args), "d_angle": by_angle,
                     "d_angle_fd": fd_angle, "d_speed": by_speed, "d_speed_fd": fd_speed, "difference": difference})
        print(f"{degrees:6d}{rows[-1]['distance']:10.3f}{by_angle:12.4f}{fd_angle:14.4f}{by_speed:11.4f}"
              f"{fd_speed:14.4f}{difference:12.1e}")
    worst = max(row["difference"] for row in rows)
    print(f"derivatives in m per radian and m per (m/s); largest relative difference {worst:.1e} "
          "(the example checks < 1e-5)")
    assert worst < 1e-5, f"s2sad and finite differences differ by {worst:.2e}"
    _, forward = s2sad.jvp(landing_distance, (math.radians(45), speed, drag, dt), (1.0, 0.0, 0.0, 0.0))
    print(f"forward mode (jvp) at 45 degrees: d/d angle = {forward:.10f}, reverse mode {rows[2]['d_angle']:.10f}")

    best = best_angle(speed, drag, dt)
    no_drag = speed**2 / GRAVITY
    farthest = landing_distance(best, speed, drag, dt)
    nearby = [landing_distance(best + math.radians(d), speed, drag, dt) for d in (-0.5, 0.5)]
    print(f"longest throw at {math.degrees(best):.3f} degrees: {farthest:.3f} m, against {nearby[0]:.3f} m and "
          f"{nearby[1]:.3f} m half a degree either side; without drag 45 degrees and {no_drag:.1f} m")
    assert 30.0 < math.degrees(best) < 45.0 and farthest > max(nearby)

    angles = np.radians(np.linspace(10.0, 80.0, 36 if small else 71))
    distances = [landing_distance(a, speed, drag, dt) for a in angles]
    slopes = [slope(a, speed, drag, dt) for a in angles]
    saved = plot is not None and plot_distance(plot, angles, distances, slopes, best)
    if saved:
        print(f"wrote {plot}")
    return {"rows": rows, "largest_difference": worst, "d_angle_forward_45": forward,
            "best_degrees": math.degrees(best), "best_distance": farthest, "nearby_distances": nearby,
            "plot": plot if saved else None}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="a coarser time step (what the tests run)")
    parser.add_argument("--plot", default="projectile.png", help="where to save the figure (needs matplotlib)")
    arguments = parser.parse_args()
    main(small=arguments.small, plot=arguments.plot)
