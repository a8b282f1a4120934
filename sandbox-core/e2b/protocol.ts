/**
 * The in-sandbox daemon's ("envd") Connect services, `process.Process` and
 * `filesystem.Filesystem`, as the e2b SDK (~2.51) speaks them: names, field
 * numbers and types written out here and turned into descriptors by
 * @bufbuild/protobuf's runtime registry, so no generated code is kept and
 * nothing is copied from the SDK. The SDK's own descriptors are not exported.
 */
import { createFileRegistry, type DescMessage, type DescService } from '@bufbuild/protobuf';
import {
  FieldDescriptorProto_Label as Label,
  FieldDescriptorProto_Type as Type,
  file_google_protobuf_timestamp,
  FileDescriptorProtoSchema,
  type DescriptorProto,
  type FieldDescriptorProto,
} from '@bufbuild/protobuf/wkt';
import { create, type MessageInitShape } from '@bufbuild/protobuf';

/** name, number, type (a scalar or a `.package.Message`/enum name), and how it repeats. */
type FieldSpec = [name: string, number: number, type: string, how?: 'repeated' | 'optional' | `oneof:${string}` | `map:${string}`];
interface MessageSpec {
  name: string;
  fields: FieldSpec[];
  nested?: MessageSpec[];
}
interface EnumSpec {
  name: string;
  values: [string, number][];
}

const scalar: Record<string, Type> = {
  string: Type.STRING,
  bytes: Type.BYTES,
  bool: Type.BOOL,
  uint32: Type.UINT32,
  int64: Type.INT64,
  sint32: Type.SINT32,
};

function field([name, number, type, how]: FieldSpec, oneofs: string[], enums: Set<string>): Partial<FieldDescriptorProto> {
  const named = !(type in scalar);
  const proto: Partial<FieldDescriptorProto> = {
    name,
    number,
    jsonName: name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase()),
    label: how === 'repeated' || how?.startsWith('map:') ? Label.REPEATED : Label.OPTIONAL,
    type: named ? (enums.has(type) ? Type.ENUM : Type.MESSAGE) : scalar[type],
    ...(named ? { typeName: type } : {}),
  };
  if (how === 'optional') {
    proto.proto3Optional = true;
    proto.oneofIndex = oneofs.push(`_${name}`) - 1;
  } else if (how?.startsWith('oneof:')) {
    const oneof = how.slice('oneof:'.length);
    const index = oneofs.indexOf(oneof);
    proto.oneofIndex = index >= 0 ? index : oneofs.push(oneof) - 1;
  }
  return proto;
}

/** `map:Entry` fields name a nested entry message `Entry` of string key and value. */
function message(spec: MessageSpec, enums: Set<string>): Partial<DescriptorProto> {
  const oneofs: string[] = [];
  // Real oneofs first, synthetic ones (proto3 optional) after, as protoc orders them.
  for (const [, , , how] of spec.fields) if (how?.startsWith('oneof:') && !oneofs.includes(how.slice(6))) oneofs.push(how.slice(6));
  const fields = spec.fields.map((f) => field(f, oneofs, enums));
  const mapEntries = spec.fields
    .filter(([, , , how]) => how?.startsWith('map:'))
    .map(([, , , how]) => ({
      name: how!.slice(4),
      field: [field(['key', 1, 'string'], [], enums), field(['value', 2, 'string'], [], enums)],
      options: { mapEntry: true },
    }));
  return {
    name: spec.name,
    field: fields as FieldDescriptorProto[],
    nestedType: [...mapEntries, ...(spec.nested ?? []).map((nested) => message(nested, enums))] as DescriptorProto[],
    oneofDecl: oneofs.map((name) => ({ name })) as DescriptorProto['oneofDecl'],
  };
}

function protoFile(name: string, pkg: string, messages: MessageSpec[], enumSpecs: EnumSpec[], services: { name: string; methods: [string, string, string, ('server' | 'client')?][] }[], deps: string[] = []) {
  const enums = new Set(enumSpecs.map((e) => `.${pkg}.${e.name}`));
  return create(FileDescriptorProtoSchema, {
    name,
    package: pkg,
    syntax: 'proto3',
    dependency: deps,
    messageType: messages.map((m) => message(m, enums)) as MessageInitShape<typeof FileDescriptorProtoSchema>['messageType'],
    enumType: enumSpecs.map((e) => ({ name: e.name, value: e.values.map(([valueName, number]) => ({ name: valueName, number })) })),
    service: services.map((s) => ({
      name: s.name,
      method: s.methods.map(([methodName, input, output, streaming]) => ({
        name: methodName,
        inputType: `.${pkg}.${input}`,
        outputType: `.${pkg}.${output}`,
        serverStreaming: streaming === 'server',
        clientStreaming: streaming === 'client',
      })),
    })),
  });
}

const P = '.process.';
const processFile = protoFile(
  'process/process.proto',
  'process',
  [
    { name: 'PTY', fields: [['size', 1, `${P}PTY.Size`]], nested: [{ name: 'Size', fields: [['cols', 1, 'uint32'], ['rows', 2, 'uint32']] }] },
    { name: 'ProcessConfig', fields: [['cmd', 1, 'string'], ['args', 2, 'string', 'repeated'], ['envs', 3, `${P}ProcessConfig.EnvsEntry`, 'map:EnvsEntry'], ['cwd', 4, 'string', 'optional']] },
    { name: 'ListRequest', fields: [] },
    { name: 'ProcessInfo', fields: [['config', 1, `${P}ProcessConfig`], ['pid', 2, 'uint32'], ['tag', 3, 'string', 'optional']] },
    { name: 'ListResponse', fields: [['processes', 1, `${P}ProcessInfo`, 'repeated']] },
    { name: 'StartRequest', fields: [['process', 1, `${P}ProcessConfig`], ['pty', 2, `${P}PTY`, 'optional'], ['tag', 3, 'string', 'optional'], ['stdin', 4, 'bool', 'optional']] },
    { name: 'UpdateRequest', fields: [['process', 1, `${P}ProcessSelector`], ['pty', 2, `${P}PTY`, 'optional']] },
    { name: 'UpdateResponse', fields: [] },
    {
      name: 'ProcessEvent',
      fields: [
        ['start', 1, `${P}ProcessEvent.StartEvent`, 'oneof:event'],
        ['data', 2, `${P}ProcessEvent.DataEvent`, 'oneof:event'],
        ['end', 3, `${P}ProcessEvent.EndEvent`, 'oneof:event'],
        ['keepalive', 4, `${P}ProcessEvent.KeepAlive`, 'oneof:event'],
      ],
      nested: [
        { name: 'StartEvent', fields: [['pid', 1, 'uint32']] },
        { name: 'DataEvent', fields: [['stdout', 1, 'bytes', 'oneof:output'], ['stderr', 2, 'bytes', 'oneof:output'], ['pty', 3, 'bytes', 'oneof:output']] },
        { name: 'EndEvent', fields: [['exit_code', 1, 'sint32'], ['exited', 2, 'bool'], ['status', 3, 'string'], ['error', 4, 'string', 'optional']] },
        { name: 'KeepAlive', fields: [] },
      ],
    },
    { name: 'StartResponse', fields: [['event', 1, `${P}ProcessEvent`]] },
    { name: 'ConnectResponse', fields: [['event', 1, `${P}ProcessEvent`]] },
    { name: 'SendInputRequest', fields: [['process', 1, `${P}ProcessSelector`], ['input', 2, `${P}ProcessInput`]] },
    { name: 'SendInputResponse', fields: [] },
    { name: 'ProcessInput', fields: [['stdin', 1, 'bytes', 'oneof:input'], ['pty', 2, 'bytes', 'oneof:input']] },
    {
      name: 'StreamInputRequest',
      fields: [
        ['start', 1, `${P}StreamInputRequest.StartEvent`, 'oneof:event'],
        ['data', 2, `${P}StreamInputRequest.DataEvent`, 'oneof:event'],
        ['keepalive', 3, `${P}StreamInputRequest.KeepAlive`, 'oneof:event'],
      ],
      nested: [
        { name: 'StartEvent', fields: [['process', 1, `${P}ProcessSelector`]] },
        { name: 'DataEvent', fields: [['input', 2, `${P}ProcessInput`]] },
        { name: 'KeepAlive', fields: [] },
      ],
    },
    { name: 'StreamInputResponse', fields: [] },
    { name: 'SendSignalRequest', fields: [['process', 1, `${P}ProcessSelector`], ['signal', 2, `${P}Signal`]] },
    { name: 'SendSignalResponse', fields: [] },
    { name: 'CloseStdinRequest', fields: [['process', 1, `${P}ProcessSelector`]] },
    { name: 'CloseStdinResponse', fields: [] },
    { name: 'ConnectRequest', fields: [['process', 1, `${P}ProcessSelector`]] },
    { name: 'ProcessSelector', fields: [['pid', 1, 'uint32', 'oneof:selector'], ['tag', 2, 'string', 'oneof:selector']] },
  ],
  [{ name: 'Signal', values: [['SIGNAL_UNSPECIFIED', 0], ['SIGNAL_SIGTERM', 15], ['SIGNAL_SIGKILL', 9]] }],
  [
    {
      name: 'Process',
      methods: [
        ['List', 'ListRequest', 'ListResponse'],
        ['Connect', 'ConnectRequest', 'ConnectResponse', 'server'],
        ['Start', 'StartRequest', 'StartResponse', 'server'],
        ['Update', 'UpdateRequest', 'UpdateResponse'],
        ['StreamInput', 'StreamInputRequest', 'StreamInputResponse', 'client'],
        ['SendInput', 'SendInputRequest', 'SendInputResponse'],
        ['SendSignal', 'SendSignalRequest', 'SendSignalResponse'],
        ['CloseStdin', 'CloseStdinRequest', 'CloseStdinResponse'],
      ],
    },
  ],
);

const F = '.filesystem.';
const filesystemFile = protoFile(
  'filesystem/filesystem.proto',
  'filesystem',
  [
    { name: 'MoveRequest', fields: [['source', 1, 'string'], ['destination', 2, 'string']] },
    { name: 'MoveResponse', fields: [['entry', 1, `${F}EntryInfo`]] },
    { name: 'MakeDirRequest', fields: [['path', 1, 'string']] },
    { name: 'MakeDirResponse', fields: [['entry', 1, `${F}EntryInfo`]] },
    { name: 'RemoveRequest', fields: [['path', 1, 'string']] },
    { name: 'RemoveResponse', fields: [] },
    { name: 'StatRequest', fields: [['path', 1, 'string']] },
    { name: 'StatResponse', fields: [['entry', 1, `${F}EntryInfo`]] },
    {
      name: 'EntryInfo',
      fields: [
        ['name', 1, 'string'],
        ['type', 2, `${F}FileType`],
        ['path', 3, 'string'],
        ['size', 4, 'int64'],
        ['mode', 5, 'uint32'],
        ['permissions', 6, 'string'],
        ['owner', 7, 'string'],
        ['group', 8, 'string'],
        ['modified_time', 9, '.google.protobuf.Timestamp'],
        ['symlink_target', 10, 'string', 'optional'],
        ['metadata', 11, `${F}EntryInfo.MetadataEntry`, 'map:MetadataEntry'],
      ],
    },
    { name: 'ListDirRequest', fields: [['path', 1, 'string'], ['depth', 2, 'uint32']] },
    { name: 'ListDirResponse', fields: [['entries', 1, `${F}EntryInfo`, 'repeated']] },
    { name: 'WatchDirRequest', fields: [['path', 1, 'string'], ['recursive', 2, 'bool'], ['include_entry', 3, 'bool'], ['allow_network_mounts', 4, 'bool']] },
    { name: 'FilesystemEvent', fields: [['name', 1, 'string'], ['type', 2, `${F}EventType`], ['entry', 3, `${F}EntryInfo`, 'optional']] },
    {
      name: 'WatchDirResponse',
      fields: [
        ['start', 1, `${F}WatchDirResponse.StartEvent`, 'oneof:event'],
        ['filesystem', 2, `${F}FilesystemEvent`, 'oneof:event'],
        ['keepalive', 3, `${F}WatchDirResponse.KeepAlive`, 'oneof:event'],
      ],
      nested: [{ name: 'StartEvent', fields: [] }, { name: 'KeepAlive', fields: [] }],
    },
    { name: 'CreateWatcherRequest', fields: [['path', 1, 'string'], ['recursive', 2, 'bool'], ['include_entry', 3, 'bool'], ['allow_network_mounts', 4, 'bool']] },
    { name: 'CreateWatcherResponse', fields: [['watcher_id', 1, 'string']] },
    { name: 'GetWatcherEventsRequest', fields: [['watcher_id', 1, 'string']] },
    { name: 'GetWatcherEventsResponse', fields: [['events', 1, `${F}FilesystemEvent`, 'repeated']] },
    { name: 'RemoveWatcherRequest', fields: [['watcher_id', 1, 'string']] },
    { name: 'RemoveWatcherResponse', fields: [] },
  ],
  [
    { name: 'FileType', values: [['FILE_TYPE_UNSPECIFIED', 0], ['FILE_TYPE_FILE', 1], ['FILE_TYPE_DIRECTORY', 2], ['FILE_TYPE_SYMLINK', 3]] },
    {
      name: 'EventType',
      values: [['EVENT_TYPE_UNSPECIFIED', 0], ['EVENT_TYPE_CREATE', 1], ['EVENT_TYPE_WRITE', 2], ['EVENT_TYPE_REMOVE', 3], ['EVENT_TYPE_RENAME', 4], ['EVENT_TYPE_CHMOD', 5]],
    },
  ],
  [
    {
      name: 'Filesystem',
      methods: [
        ['Stat', 'StatRequest', 'StatResponse'],
        ['MakeDir', 'MakeDirRequest', 'MakeDirResponse'],
        ['Move', 'MoveRequest', 'MoveResponse'],
        ['ListDir', 'ListDirRequest', 'ListDirResponse'],
        ['Remove', 'RemoveRequest', 'RemoveResponse'],
        ['WatchDir', 'WatchDirRequest', 'WatchDirResponse', 'server'],
        ['CreateWatcher', 'CreateWatcherRequest', 'CreateWatcherResponse'],
        ['GetWatcherEvents', 'GetWatcherEventsRequest', 'GetWatcherEventsResponse'],
        ['RemoveWatcher', 'RemoveWatcherRequest', 'RemoveWatcherResponse'],
      ],
    },
  ],
  ['google/protobuf/timestamp.proto'],
);

const resolveTimestamp = (name: string) => (name === 'google/protobuf/timestamp.proto' ? file_google_protobuf_timestamp : undefined);
export const envdRegistry = createFileRegistry(createFileRegistry(processFile, resolveTimestamp), createFileRegistry(filesystemFile, resolveTimestamp));

function service(name: string): DescService {
  const found = envdRegistry.getService(name);
  if (!found) throw new Error(`envd protocol: no service ${name}`);
  return found;
}
export function envdMessage(name: string): DescMessage {
  const found = envdRegistry.getMessage(name);
  if (!found) throw new Error(`envd protocol: no message ${name}`);
  return found;
}

export const ProcessService = service('process.Process');
export const FilesystemService = service('filesystem.Filesystem');

/** Enum numbers the handlers use. */
export const FileType = { file: 1, directory: 2, symlink: 3 } as const;
export const EventType = { create: 1, write: 2, remove: 3, rename: 4, chmod: 5 } as const;
export const Signal = { SIGTERM: 15, SIGKILL: 9 } as const;
