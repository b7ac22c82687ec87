"""``imgtool kernel``: show the Gaussian kernel imgtool builds for a sigma and epsilon."""

from __future__ import annotations

import json

import click

from imgtool.cli.options import check_gaussian, verbosity_options


@click.command("kernel")
@click.option("--sigma", type=float, required=True, help="Gaussian standard deviation (> 0).")
@click.option("--epsilon", type=float, default=0.001, show_default=True,
              help="Smallest kernel weight kept, in (0, 1).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as one JSON object.")
@verbosity_options
def kernel_command(sigma, epsilon, as_json):
    """Print the radius, width, kept mass and weights of the Gaussian kernel.

    The radius is the smallest r for which the Gaussian density falls below EPSILON beyond
    r pixels. EPSILON is an absolute weight, so large sigmas cut off more of the bell:
    the kept mass says how much. A kernel that keeps less than 90% is refused (exit 2), as
    'imgtool filter' refuses it, with an EPSILON that would do.

    \b
      imgtool kernel --sigma 2 --epsilon 0.01
    """
    from imgtool.filters import gaussian_kept_mass, gaussian_kernel, gaussian_radius

    check_gaussian(sigma, epsilon)  # refused as 'imgtool filter' refuses it
    radius = gaussian_radius(sigma, epsilon)
    weights = gaussian_kernel(sigma, epsilon)
    mass = gaussian_kept_mass(sigma, epsilon)
    if as_json:
        click.echo(json.dumps({"sigma": sigma, "epsilon": epsilon, "radius": radius,
                               "width": 2 * radius + 1, "kept_mass": mass,
                               "weights": [float(w) for w in weights]}))
        return 0
    click.echo(f"sigma      {sigma:g}")
    click.echo(f"epsilon    {epsilon:g}")
    click.echo(f"radius     {radius}")
    click.echo(f"width      {2 * radius + 1}")
    click.echo(f"kept mass  {mass:.6f}")
    click.echo("weights    " + " ".join(f"{w:.6f}" for w in weights))
    return 0
