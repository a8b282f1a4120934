# A line of JSON per task result, for `rigor fleet run` to tell each host's
# outcome (which step failed, and why) from; written as they happen, so an
# interrupted run still says how far each host came. Enabled only by rigor
# (ANSIBLE_CALLBACKS_ENABLED=rigor_events, RIGOR_FLEET_EVENTS=<file>).
import json
import os
import time

from ansible.plugins.callback import CallbackBase

TAIL = 20


def tail(text):
    if not isinstance(text, str):
        return []
    return text.splitlines()[-TAIL:]


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'notification'
    CALLBACK_NAME = 'rigor_events'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.path = os.environ.get('RIGOR_FLEET_EVENTS')

    def write(self, event):
        if not self.path:
            return
        event['time'] = time.time()
        with open(self.path, 'a', encoding='utf-8') as out:
            out.write(json.dumps(event) + '\n')

    def result(self, status, result):
        data = result._result
        self.write({
            'host': result._host.get_name(),
            'task': result._task.get_name(),
            'status': status,
            'msg': data.get('msg') if isinstance(data.get('msg'), str) else None,
            'rc': data.get('rc') if isinstance(data.get('rc'), int) else None,
            'stdout_tail': tail(data.get('stdout')),
            'stderr_tail': tail(data.get('stderr')),
        })

    def v2_runner_on_start(self, host, task):
        self.write({'host': host.get_name(), 'task': task.get_name(), 'status': 'start'})

    def v2_runner_on_ok(self, result):
        self.result('ok', result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self.result('ignored' if ignore_errors else 'failed', result)

    def v2_runner_on_unreachable(self, result):
        self.result('unreachable', result)

    def v2_runner_on_skipped(self, result):
        self.result('skipped', result)
