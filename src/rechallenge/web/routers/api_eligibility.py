"""JSON API: the eligibility of one patient."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException

from rechallenge.errors import ConfigError
from rechallenge.web.deps import ApiAccess
from rechallenge.web.eligibility import EligibilityError, classify
from rechallenge.web.schemas import EligibilityIn, EligibilityOut

router = APIRouter(prefix="/api", tags=["eligibility"], dependencies=[ApiAccess])


@router.post("/eligibility", response_model=EligibilityOut)
def eligibility(patient: EligibilityIn) -> EligibilityOut:
    """Acquired resistance by each definition and the study's criteria, with the reasons."""
    try:
        return classify(patient)
    except (EligibilityError, ConfigError) as exc:
        raise HTTPException(422, str(exc)) from None
