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

from rechallenge.api import Section, StudyResult, run_study
from rechallenge.config import StudyConfig, load_config
from rechallenge.data.model import Study
from rechallenge.data.validate import load_study
from rechallenge.errors import (
    AnalysisError,
    ConfigError,
    DataValidationError,
    OutputFolderError,
    PdfBackendMissingError,
    Problem,
    RechallengeError,
)

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
