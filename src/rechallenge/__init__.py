"""rechallenge: a real-world study of immune checkpoint inhibitor rechallenge in advanced NSCLC.

Layers, imports pointing down only::

    data      model, IO, validation, drug dictionary      (rechallenge.data)
    rules     courses, RECIST 1.1, iRECIST, resistance, CTCAE, cohort selection
    derive    endpoints and ADaM-style analysis datasets
    stats     Kaplan-Meier, log-rank, Cox, proportions (arrays in, results out)
    analysis  the study protocol's analyses, producing results.json
    tables / figures / report
    pipeline, cli, api

From Python: ``rechallenge.run_study(data, config=None, out=None) -> StudyResult``
(docs/python-api.md).
"""

__version__ = "0.1.0"

from typing import TYPE_CHECKING, Any

from rechallenge.errors import (
    AnalysisError,
    ConfigError,
    DataValidationError,
    OutputFolderError,
    PdfBackendMissingError,
    Problem,
    RechallengeError,
)

if TYPE_CHECKING:  # the names below load on first use, so `import rechallenge` stays light
    from rechallenge.api import Section, StudyResult, run_study
    from rechallenge.config import StudyConfig, load_config
    from rechallenge.data.model import Study
    from rechallenge.data.validate import load_study

#: Public names imported on first use (PEP 562): the command line and a configuration check
#: do not pay for pandas, scipy and matplotlib until they need them.
_LAZY = {
    "Section": "rechallenge.api",
    "StudyResult": "rechallenge.api",
    "run_study": "rechallenge.api",
    "StudyConfig": "rechallenge.config",
    "load_config": "rechallenge.config",
    "Study": "rechallenge.data.model",
    "load_study": "rechallenge.data.validate",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'rechallenge' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "AnalysisError",
    "ConfigError",
    "DataValidationError",
    "OutputFolderError",
    "PdfBackendMissingError",
    "Problem",
    "RechallengeError",
    "Section",
    "Study",
    "StudyConfig",
    "StudyResult",
    "__version__",
    "load_config",
    "load_study",
    "run_study",
]
