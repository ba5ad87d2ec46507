"""The tables: one module per group of domain words. Import models from here."""

from commsvc.models.account import ApiKey, AuditEntry, User
from commsvc.models.bulletin import Bulletin, BulletinTransition, MessageTemplate
from commsvc.models.delivery import Delivery, DeliveryAttempt
from commsvc.models.member import ConsentRecord, Member, TopicPreference
from commsvc.models.organisation import Branch, Branding, Employer, Partnership, Region, Topic
from commsvc.models.question import Answer, Question
from commsvc.models.suppression import Suppression

__all__ = [
    "Answer",
    "ApiKey",
    "AuditEntry",
    "Branch",
    "Branding",
    "Bulletin",
    "BulletinTransition",
    "ConsentRecord",
    "Delivery",
    "DeliveryAttempt",
    "Employer",
    "Member",
    "MessageTemplate",
    "Partnership",
    "Question",
    "Region",
    "Suppression",
    "Topic",
    "TopicPreference",
    "User",
]
