"""Transform rows of jaxneuro.fitting: the residuals and the loss of a small cable problem, as
functions of the temperature (°C).  The problem builders, the fit loop (a host loop over
compiled iterations, with progress), the uncertainty (a NumPy SVD at a point) and the reports
run on the host; recordings are files."""

import jax.numpy as jnp
import numpy as np

import jaxneuro as jn
from jaxneuro import fitting, recordings
from transform_rows import Row

_GRID = jn.Grid(length=4_000.0, dx=500.0, dt=0.02, t_stop=0.6)
_T = np.arange(0.0, 0.6 + 1e-9, 0.1)
_RECORDING = recordings.TraceRecording.make(_T, [1_000.0, 3_000.0], np.outer([1.0, 0.5], _T) * 50.0, noise=0.5)
_PROBLEM = fitting.trace_problem(_RECORDING, ("temperature", "gNa"), axon=jn.cooley_dodge_axon(), grid=_GRID)


def _waveform_problem():
    from jaxneuro.extracellular import NOTEBOOK_AXON, SpikeProfile

    x = np.arange(0.0, 4_000.0, 20.0)
    profile = SpikeProfile.from_samples(x, 100.0 * np.exp(-((x - 2_000.0) / 300.0) ** 2), NOTEBOOK_AXON)
    t = np.arange(-1.0, 1.0 + 1e-9, 0.1)
    phi = -5.0 * np.exp(-(t / 0.3) ** 2)
    return fitting.waveform_problem(recordings.WaveformRecording.make(t, phi, distance=50.0, noise=0.05),
                                    ("radius", "distance"), profile=profile, speed=0.7)


_WAVEFORM = _waveform_problem()


def _theta(temperature):
    return jnp.stack([jnp.asarray(temperature, float), jnp.asarray(120.0)])


ROWS = [
    Row("fitting.fit_starts_traced", lambda a: fitting.fit_starts_traced(
        _WAVEFORM, jnp.stack([a, 50.0])[None], max_iterations=3)["values"],
        1.2, skip={"grad": "a while_loop of Levenberg–Marquardt steps: reverse mode cannot differentiate it (and a "
                            "fit's derivative with respect to its start is zero at convergence)"}),
    Row("fitting.residuals", lambda t: fitting.residuals(_PROBLEM, _theta(t)), 18.5),
    Row("fitting.loss", lambda t: fitting.loss(_PROBLEM, _theta(t)), 18.5),
]

HOST_SIDE = {
    **{f"fitting.{name}": "builds a problem from a recording and checks it on the host, before tracing"
       for name in ("trace_problem", "waveform_problem", "speed_problem", "check_names")},
    "fitting.fit": "host loop over compiled (vmapped) iterations, with progress; its pieces are jitted",
    "fitting.uncertainty": "one compiled Jacobian, then NumPy's SVD on the host",
    "fitting.prediction": "one compiled Jacobian, then the band in NumPy",
    "fitting.profile_likelihood": "a vmapped fit (host loop)",
    "fitting.summary": "JSON-ready dict on the host",
    "fitting.summary_json": "JSON text on the host",
    "fitting.report": "text on the host",
    "recordings.load": "reads a file",
    "recordings.save": "writes a file",
}
