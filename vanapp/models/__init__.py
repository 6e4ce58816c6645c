"""peewee models by part. Models import no Flask and no VLC."""
from .base import BaseModel, JSONTextField, Outbox, SyncModel, UTCDateTimeField, db
from .core import ApiToken, Setting
from .tours import (CANCEL_REASONS, STATUSES, Campaign, ProgrammeItem, Screening,
                    ScreeningEvent, Tour, Village)
from .media import GAME_KINDS, MEDIA_KINDS, Game, MediaItem, MediaScan
from .playback import OUTCOMES, PlayLog
from .attendance import DEFAULT_CATEGORIES, Headcount, Participant, TallyEvent
from .games import GameResult, GameRun
from .hub_users import Coordinator
from .sessions import LoginSession
from .game_play import GameBuzz, GameLive, GamePlayer, GameVote
from .sync import SummaryReport, SyncBatch, SyncParked, SyncRun, Van, VanCursor, VanSetAside

VAN_MODELS = [Setting, ApiToken, Outbox, Campaign, Village, Tour, Screening, ProgrammeItem,
              ScreeningEvent, MediaItem, MediaScan, Game, PlayLog, TallyEvent, Headcount,
              Participant, GameRun, GameResult]
from .hub_facts import (FACT_MODELS, FactCategory, FactParticipant, FactPoll, FactQuiz, RateLimit,
                        ScreeningFact, VanFact)
