// Seed 002's resources as CRUD specs: the README's paths, bodies and filters. Recordings, sessions and
// the event log belong to their user_id: a signed-in user sees and writes only their own.
import { Type } from 'typebox';
import type { CrudSpec } from '../../platform/crud.ts';
import { DateTimeIn, JsonValue, NullableString } from '../../platform/schemas.ts';
import { algos, eventLog, recordings, sessions } from './resources.tables.ts';

const Id = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });
const Filter = (description: string) => Type.String({ minLength: 1, maxLength: 255, description });
const RefId = (description: string) => NullableString({ maxLength: 255, description });

export const recordingSpec: CrudSpec = {
  name: 'recording',
  path: '/recordings',
  tag: 'recordings',
  table: recordings,
  key: 'recording_id',
  keySchema: Id('recording id'),
  fields: {
    recording_link: NullableString({ description: 'where the recording is stored' }),
    recording_type: NullableString({ maxLength: 255 }),
    user_id: RefId('the user (must exist)'),
    created_session_id: RefId('the session it was recorded in (must exist)'),
  },
  filters: { user_id: Filter('recordings of this user'), recording_type: Filter('recordings of this type') },
  timeColumn: 'created_at',
  ownerColumn: 'user_id',
  ownedRefs: { created_session_id: { table: sessions, key: 'session_id', ownerColumn: 'user_id', name: 'sessions' } },
};

export const algoSpec: CrudSpec = {
  name: 'algo',
  path: '/algos',
  tag: 'algos',
  table: algos,
  key: 'algo_id',
  keySchema: Id('algorithm id'),
  fields: {
    recording_type: NullableString({ maxLength: 255 }),
    location: NullableString({ description: 'where the model artifact lives' }),
    version: NullableString({ maxLength: 255 }),
  },
  filters: { recording_type: Filter('algorithms for this recording type'), version: Filter('algorithms of this version') },
  timeColumn: 'created_at',
  // Models are shared: every signed-in user reads them, admins and services write them.
  access: { read: 'user', write: 'service' },
};

export const sessionSpec: CrudSpec = {
  name: 'session',
  path: '/sessions',
  tag: 'sessions',
  table: sessions,
  key: 'session_id',
  keySchema: Id('session id'),
  fields: {
    ts_start: DateTimeIn('session start (ISO 8601; no zone = UTC)'),
    user_id: RefId('the user (must exist)'),
    exercises_data: JsonValue('exercises, any JSON'),
    device_type: NullableString({ maxLength: 255 }),
    device_os: NullableString({ maxLength: 255 }),
    region: NullableString({ maxLength: 255 }),
    ip: NullableString({ maxLength: 64 }),
    app_version: NullableString({ maxLength: 255 }),
  },
  filters: {
    user_id: Filter('sessions of this user'),
    device_type: Filter('sessions on this device type'),
    device_os: Filter('sessions on this OS'),
    region: Filter('sessions in this region'),
    app_version: Filter('sessions of this app version'),
  },
  timeColumn: 'ts_start',
  ownerColumn: 'user_id',
};

export const eventLogSpec: CrudSpec = {
  name: 'event',
  path: '/events',
  tag: 'events',
  table: eventLog,
  key: 'event_id',
  keySchema: Type.Integer({ minimum: 1, maximum: 2_147_483_647, description: 'event id (generated when omitted)' }),
  generatedKey: true,
  fields: {
    ts: Type.String({ format: 'iso-date-time', description: 'when it happened (ISO 8601; no zone = UTC; default now)' }),
    user_id: RefId('the user (must exist)'),
    session_id: RefId('the session (must exist)'),
    event_type: NullableString({ maxLength: 255 }),
    event_data: JsonValue('event payload, any JSON'),
    event_source: NullableString({ maxLength: 255 }),
    log_level: NullableString({ maxLength: 32 }),
    app_version: NullableString({ maxLength: 255 }),
  },
  filters: {
    user_id: Filter('events of this user'),
    session_id: Filter('events of this session'),
    event_type: Filter('events of this type'),
    event_source: Filter('events from this source'),
  },
  timeColumn: 'ts',
  ownerColumn: 'user_id',
  ownedRefs: { session_id: { table: sessions, key: 'session_id', ownerColumn: 'user_id', name: 'sessions' } },
};

export const resourceSpecs = [sessionSpec, recordingSpec, algoSpec, eventLogSpec];
