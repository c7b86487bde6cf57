"""Every model, so that ``Base.metadata`` is complete (the Alembic target)."""

from surveyapp.models.alerts import (
    AlertKind,
    DigestFrequency,
    DigestSent,
    Notification,
    Subscription,
)
from surveyapp.models.audit import AuditEntry
from surveyapp.models.campaign import Campaign, campaign_units
from surveyapp.models.case import (
    OPEN_STATUSES,
    REPLIED_STATUSES,
    Case,
    CaseNote,
    CaseStatus,
    Verdict,
)
from surveyapp.models.catalog import CatalogueAlias, Dossier, Procedure, ServiceField, Staff
from surveyapp.models.enums import (
    Channel,
    DossierStatus,
    InstrumentStatus,
    ItemKind,
    RespondentType,
    ResponseStatus,
    Role,
    Stream,
    UnitLevel,
)
from surveyapp.models.instrument import Domain, Element, Instrument, Item, localized
from surveyapp.models.invitation import (
    IntakeBatch,
    Invitation,
    InvitationChannel,
    InvitationStatus,
    OptOut,
)
from surveyapp.models.job import ApiToken, ExportFile, ExportJob, JobStatus, TokenKind
from surveyapp.models.par import ParScheme, Publication
from surveyapp.models.response import Answer, AnswerCount, Comment, Response
from surveyapp.models.rounds import RaterLink, Respondent, RespondentGroup, SurveyRound
from surveyapp.models.unit import Counter, CounterActivity, CounterToken, Unit, UnitLineage
from surveyapp.models.user import LoginFailure, User

__all__ = [
    "AlertKind",
    "DigestFrequency",
    "DigestSent",
    "Notification",
    "Subscription",
    "Answer",
    "ApiToken",
    "ExportFile",
    "ExportJob",
    "JobStatus",
    "LoginFailure",
    "AnswerCount",
    "AuditEntry",
    "Campaign",
    "CatalogueAlias",
    "Case",
    "CaseNote",
    "CaseStatus",
    "Verdict",
    "Channel",
    "Comment",
    "Counter",
    "CounterActivity",
    "CounterToken",
    "Domain",
    "Dossier",
    "DossierStatus",
    "Element",
    "Instrument",
    "IntakeBatch",
    "Invitation",
    "InvitationChannel",
    "InvitationStatus",
    "OPEN_STATUSES",
    "REPLIED_STATUSES",
    "OptOut",
    "ParScheme",
    "RaterLink",
    "Respondent",
    "RespondentGroup",
    "SurveyRound",
    "Publication",
    "InstrumentStatus",
    "Item",
    "ItemKind",
    "Procedure",
    "RespondentType",
    "Response",
    "ResponseStatus",
    "Role",
    "ServiceField",
    "Staff",
    "Stream",
    "TokenKind",
    "Unit",
    "UnitLineage",
    "UnitLevel",
    "User",
    "campaign_units",
    "localized",
]
