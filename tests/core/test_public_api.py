"""The curated public API: what `import rechallenge` offers, and the exception tree."""

import rechallenge
from rechallenge.errors import (
    ConfigError,
    DataValidationError,
    OutputFolderError,
    PdfBackendMissingError,
    RechallengeError,
)


def test_exported_members() -> None:
    assert rechallenge.__all__ == [
        "AnalysisError", "ConfigError", "DataValidationError", "OutputFolderError",
        "PdfBackendMissingError", "Problem", "RechallengeError", "Section", "Study",
        "StudyConfig", "StudyResult", "__version__", "load_config", "load_study", "run_study",
    ]  # fmt: skip
    for name in rechallenge.__all__:
        assert hasattr(rechallenge, name)


def test_exception_tree() -> None:
    assert issubclass(ConfigError, RechallengeError)
    assert issubclass(DataValidationError, RechallengeError)
    assert issubclass(OutputFolderError, RechallengeError)
    assert issubclass(PdfBackendMissingError, RechallengeError)
    assert issubclass(PdfBackendMissingError, ImportError)  # `except ImportError` still works
    error = DataValidationError([])
    assert str(error) == "0 problems found in the study data"
