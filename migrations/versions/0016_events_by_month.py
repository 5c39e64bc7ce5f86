"""Behaviour events partitioned by month on PostgreSQL (`events_pYYYYMM` plus a default
partition), with the rows already there moved in; an index for merging an anonymous
visitor's events at sign-in and one for a customer's events. SQLite keeps a plain table
and only gains the indexes.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-06

"""
from datetime import date, datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0014'
branch_labels = None
depends_on = None

MONTHS_AHEAD = 2
COLUMNS = ("id, type, anon_id, user_id, path, product_id, merchant_id, query, dwell_ms, props, created_at")


def _next(first):
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def _bound(first):
    return datetime(first.year, first.month, 1, tzinfo=timezone.utc).isoformat()


def _indexes():
    op.create_index('ix_events_anon_unmerged', 'events', ['anon_id'],
                    postgresql_where=sa.text('user_id IS NULL'), sqlite_where=sa.text('user_id IS NULL'))
    op.create_index('ix_events_user_created', 'events', ['user_id', 'created_at'])


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        _indexes()
        return
    op.execute("ALTER TABLE events RENAME TO events_unpartitioned")
    op.execute("ALTER TABLE events_unpartitioned RENAME CONSTRAINT pk_events TO pk_events_unpartitioned")
    op.execute("ALTER TABLE events_unpartitioned RENAME CONSTRAINT fk_events_user_id_users "
               "TO fk_events_unpartitioned_user_id")
    op.execute("ALTER INDEX ix_events_type_created RENAME TO ix_events_unpartitioned_type_created")
    # The partition key must be part of the primary key; ids still come from the one sequence.
    op.execute("""
        CREATE TABLE events (
            id integer NOT NULL DEFAULT nextval('events_id_seq'::regclass),
            type varchar(16) NOT NULL,
            anon_id varchar(40),
            user_id integer,
            path varchar(300),
            product_id integer,
            merchant_id integer,
            query varchar(100),
            dwell_ms integer,
            props json NOT NULL,
            created_at timestamp with time zone NOT NULL,
            CONSTRAINT pk_events PRIMARY KEY (id, created_at),
            CONSTRAINT fk_events_user_id_users FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE SET NULL
        ) PARTITION BY RANGE (created_at)""")
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY events.id")
    op.execute("CREATE INDEX ix_events_type_created ON events (type, created_at)")
    _indexes()
    oldest = op.get_bind().execute(sa.text("SELECT min(created_at) FROM events_unpartitioned")).scalar()
    today = datetime.now(timezone.utc).date()
    first = date((oldest or datetime.now(timezone.utc)).year, (oldest or datetime.now(timezone.utc)).month, 1)
    last = date(today.year, today.month, 1)
    for _ in range(MONTHS_AHEAD):
        last = _next(last)
    while first <= last:
        op.execute(f"CREATE TABLE events_p{first:%Y%m} PARTITION OF events "
                   f"FOR VALUES FROM ('{_bound(first)}') TO ('{_bound(_next(first))}')")
        first = _next(first)
    op.execute("CREATE TABLE events_default PARTITION OF events DEFAULT")
    op.execute(f"INSERT INTO events ({COLUMNS}) SELECT {COLUMNS} FROM events_unpartitioned")
    op.execute("DROP TABLE events_unpartitioned")


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        op.drop_index('ix_events_user_created', 'events')
        op.drop_index('ix_events_anon_unmerged', 'events')
        return
    op.execute("""
        CREATE TABLE events_plain (
            id integer NOT NULL DEFAULT nextval('events_id_seq'::regclass),
            type varchar(16) NOT NULL,
            anon_id varchar(40),
            user_id integer,
            path varchar(300),
            product_id integer,
            merchant_id integer,
            query varchar(100),
            dwell_ms integer,
            props json NOT NULL,
            created_at timestamp with time zone NOT NULL
        )""")
    op.execute(f"INSERT INTO events_plain ({COLUMNS}) SELECT {COLUMNS} FROM events")
    op.execute("ALTER SEQUENCE events_id_seq OWNED BY events_plain.id")
    op.execute("DROP TABLE events")  # its partitions go with it
    op.execute("ALTER TABLE events_plain RENAME TO events")
    op.execute("ALTER TABLE events ADD CONSTRAINT pk_events PRIMARY KEY (id)")
    op.execute("ALTER TABLE events ADD CONSTRAINT fk_events_user_id_users FOREIGN KEY (user_id) "
               "REFERENCES users (id) ON DELETE SET NULL")
    op.execute("CREATE INDEX ix_events_type_created ON events (type, created_at)")
