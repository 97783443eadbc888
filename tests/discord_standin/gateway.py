"""The stand-in for Discord's gateway: the websocket a bot keeps open to receive events.

It speaks the parts of the protocol discord.py uses: HELLO on connect, heartbeat ACKs,
IDENTIFY answered with READY and then one GUILD_CREATE per guild, RESUME answered by
replaying the missed dispatches and RESUMED (or INVALID_SESSION when the session is gone),
and REQUEST_GUILD_MEMBERS answered with one GUILD_MEMBERS_CHUNK. Dispatches carry
increasing sequence numbers per session. Frames go out as plain JSON text, which discord.py
accepts although it asks for ``compress=zlib-stream``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import FakeDiscord

_log = logging.getLogger(__name__)

# Opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
DISPATCH = 0
HEARTBEAT = 1
IDENTIFY = 2
PRESENCE_UPDATE = 3
VOICE_STATE_UPDATE = 4
RESUME = 6
RECONNECT = 7
REQUEST_GUILD_MEMBERS = 8
INVALID_SESSION = 9
HELLO = 10
HEARTBEAT_ACK = 11

# Gateway intents the stand-in filters events by.
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12
MESSAGE_CONTENT = 1 << 15

#: How many dispatches a session keeps for a RESUME.
_REPLAY_LIMIT = 2000

#: Event data, or a function of the receiving session giving its data (None: not for it).
EventData = dict[str, Any] | Callable[["GatewaySession"], dict[str, Any] | None]


@dataclass(eq=False)
class GatewayConnection:
    """One open websocket; several may belong to one session over its life (RESUMEs)."""

    ws: web.WebSocketResponse
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    session: GatewaySession | None = None
    closed_by_server: bool = False

    async def send(self, frame: dict[str, Any]) -> bool:
        if self.ws.closed:
            return False
        try:
            await self.ws.send_str(json.dumps(frame))
        except (ConnectionError, RuntimeError):
            return False
        return True


@dataclass(eq=False)
class GatewaySession:
    """A gateway session: what IDENTIFY creates and RESUME picks up again."""

    id: str
    shard: tuple[int, int]
    intents: int
    identified_at: float
    seq: int = 0
    buffer: list[dict[str, Any]] = field(default_factory=list)
    connection: GatewayConnection | None = None
    #: Over: the client closed it cleanly (1000/1001) or a newer IDENTIFY replaced it.
    invalid: bool = False

    @property
    def live(self) -> bool:
        return not self.invalid and self.connection is not None and not self.connection.ws.closed


class Gateway:
    """Accepts gateway websockets and delivers dispatches to the sessions on them."""

    def __init__(self, fake: FakeDiscord, *, heartbeat_interval_ms: int) -> None:
        self._fake = fake
        self.heartbeat_interval_ms = heartbeat_interval_ms
        self.sessions: list[GatewaySession] = []
        self.connections: set[GatewayConnection] = set()
        self.identify_count = 0
        self.resume_count = 0
        #: (direction "in"/"out", op, event name or None), oldest first.
        self.log: list[tuple[str, int, str | None]] = []

    # -- websocket handling --------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        connection = GatewayConnection(ws)
        self.connections.add(connection)
        try:
            await self._send(
                connection, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_interval_ms}}
            )
            async for message in ws:
                if message.type is WSMsgType.TEXT:
                    try:
                        frame = json.loads(message.data)
                    except ValueError:
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                        break
                    try:
                        await self._on_frame(connection, frame)
                    except Exception:
                        self._fake.errors.append(
                            f"gateway frame {frame!r}: {traceback.format_exc()}"
                        )
                        _log.exception("stand-in gateway failed on %r", frame)
                        await ws.close(code=4000, message=b"Unknown error.")
                        break
                elif message.type is WSMsgType.BINARY:
                    await ws.close(code=4002, message=b"Error while decoding payload.")
                    break
        finally:
            self.connections.discard(connection)
            session = connection.session
            if session is not None and session.connection is connection:
                session.connection = None
                # A client that closes with 1000/1001 ends its session; any other close
                # (or one we made) leaves it resumable, as on Discord.
                if not connection.closed_by_server and ws.close_code in (1000, 1001):
                    session.invalid = True
            self._fake._notify()
        return ws

    async def _send(self, connection: GatewayConnection, frame: dict[str, Any]) -> bool:
        frame.setdefault("s", None)
        frame.setdefault("t", None)
        self.log.append(("out", frame["op"], frame["t"]))
        return await connection.send(frame)

    async def _on_frame(self, connection: GatewayConnection, frame: dict[str, Any]) -> None:
        op = frame.get("op")
        data = frame.get("d")
        self.log.append(("in", op if isinstance(op, int) else -1, None))
        if op == HEARTBEAT:
            async with connection.lock:
                await self._send(connection, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(connection, data or {})
        elif op == RESUME:
            await self._resume(connection, data or {})
        elif op == REQUEST_GUILD_MEMBERS:
            await self._request_members(connection, data or {})
        elif op in (PRESENCE_UPDATE, VOICE_STATE_UPDATE):
            pass
        else:
            await connection.ws.close(code=4001, message=b"Unknown opcode.")

    async def _identify(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        if connection.session is not None:
            await connection.ws.close(code=4005, message=b"Already authenticated.")
            return
        if data.get("token") != self._fake.bot_token:
            await connection.ws.close(code=4004, message=b"Authentication failed.")
            return
        if "intents" not in data:
            await connection.ws.close(code=4013, message=b"Invalid intent(s).")
            return
        shard_id, shard_count = data.get("shard") or (0, 1)
        session = GatewaySession(
            id=secrets.token_hex(16),
            shard=(int(shard_id), int(shard_count)),
            intents=int(data["intents"]),
            identified_at=time.monotonic(),
        )
        # A newer IDENTIFY for the same shard takes over its events.
        for old in self.sessions:
            if old.shard == session.shard:
                old.invalid = True
        self.sessions.append(session)
        self.identify_count += 1
        session.connection = connection
        connection.session = session
        async with connection.lock:
            await self._deliver(session, "READY", self._fake._ready_payload(session))
            for guild in self._fake._guild_create_payloads(session):
                await self._deliver(session, "GUILD_CREATE", guild)
        self._fake._notify()

    async def _resume(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        session = next((s for s in self.sessions if s.id == data.get("session_id")), None)
        if (
            session is None
            or session.invalid
            or data.get("token") != self._fake.bot_token
            or (session.connection is not None and not session.connection.ws.closed)
        ):
            async with connection.lock:
                await self._send(connection, {"op": INVALID_SESSION, "d": False})
            return
        self.resume_count += 1
        after = data.get("seq") or 0
        async with connection.lock:
            session.connection = connection
            connection.session = session
            for frame in session.buffer:
                if frame["s"] > after:
                    await self._send(connection, dict(frame))
            await self._deliver(session, "RESUMED", {})
        self._fake._notify()

    async def _request_members(self, connection: GatewayConnection, data: dict[str, Any]) -> None:
        session = connection.session
        if session is None:
            await connection.ws.close(code=4003, message=b"Not authenticated.")
            return
        guild_id = int(data.get("guild_id") or self._fake.guild_id)
        chunk: dict[str, Any] = {
            "guild_id": str(guild_id),
            "members": self._fake._member_list_payloads(),
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if data.get("nonce") is not None:
            chunk["nonce"] = data["nonce"]
        async with connection.lock:
            await self._deliver(session, "GUILD_MEMBERS_CHUNK", chunk)

    # -- dispatching ---------------------------------------------------------------------

    async def _deliver(self, session: GatewaySession, event: str, data: dict[str, Any]) -> None:
        """Number, buffer and (if connected) send one dispatch. Caller holds the lock."""
        session.seq += 1
        frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(frame)
        del session.buffer[:-_REPLAY_LIMIT]
        if session.connection is not None:
            await self._send(session.connection, dict(frame))

    async def _deliver_locked(
        self, session: GatewaySession, event: str, data: dict[str, Any]
    ) -> None:
        connection = session.connection
        if connection is None:
            await self._deliver(session, event, data)
            return
        async with connection.lock:
            await self._deliver(session, event, data)

    def current_session(self) -> GatewaySession | None:
        """The session interactions go to: the newest live one, else the newest resumable."""
        valid = [s for s in self.sessions if not s.invalid]
        live = [s for s in valid if s.live]
        if live:
            return max(live, key=lambda s: s.identified_at)
        if valid:
            return max(valid, key=lambda s: s.identified_at)
        return None

    async def dispatch_one(self, event: str, data: dict[str, Any]) -> GatewaySession | None:
        """Send an event to one session only (as Discord does with interactions)."""
        session = self.current_session()
        if session is not None:
            await self._deliver_locked(session, event, data)
        return session

    async def dispatch(self, event: str, data: EventData, *, intents: int = 0) -> int:
        """Send an event to every session that asked for ``intents``; returns how many."""
        count = 0
        for session in list(self.sessions):
            if session.invalid or (intents and not session.intents & intents):
                continue
            payload = data(session) if callable(data) else data
            if payload is None:
                continue
            await self._deliver_locked(session, event, payload)
            count += 1
        return count

    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions if s.live]

    async def disconnect(self, *, code: int = 4000, resumable: bool = True) -> int:
        """Close every gateway websocket from the server side; returns how many."""
        connections = list(self.connections)
        for connection in connections:
            connection.closed_by_server = True
            if not resumable and connection.session is not None:
                connection.session.invalid = True
        if not resumable:
            for session in self.sessions:
                session.invalid = True
        for connection in connections:
            with contextlib.suppress(Exception):
                await connection.ws.close(code=code, message=b"Disconnected by the stand-in.")
        return len(connections)

    async def close(self) -> None:
        await self.disconnect(code=1001, resumable=False)
