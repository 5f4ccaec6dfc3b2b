"""The curated public API: what `import rechallenge` offers, and the exception tree."""

import rechallenge
from rechallenge.errors import ConfigError, DataValidationError, RechallengeError


def test_exported_members() -> None:
    assert rechallenge.__all__ == [
        "AnalysisError", "ConfigError", "DataValidationError", "Problem", "RechallengeError",
        "Study", "StudyConfig", "__version__", "load_config", "load_study",
    ]  # fmt: skip
    for name in rechallenge.__all__:
        assert hasattr(rechallenge, name)


def test_exception_tree() -> None:
    assert issubclass(ConfigError, RechallengeError)
    assert issubclass(DataValidationError, RechallengeError)
    error = DataValidationError([])
    assert str(error) == "0 problems found in the study data"
