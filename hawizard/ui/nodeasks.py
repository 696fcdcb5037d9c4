"""The two questions a node connection can ask the operator: an unknown host key, a sudo password.

Shared by the run (runctl.RunController) and the review's Diff tab (diffview.Asker) so that both word
them alike and refuse alike; each class supplies ``_ask`` (push a dialog from a worker thread, wait for
its answer, None when cancelled).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class NodeQuestions:
    def _ask(self, make_screen: Callable[[], Any]) -> Any:  # pragma: no cover - supplied by the class
        raise NotImplementedError

    def confirm_host_key(self, label: str, key_type: str, fingerprint: str) -> bool:
        from hawizard.ui.dialogs import ConfirmPhraseScreen

        text = (f"{key_type} {fingerprint}\nCompare it with the node's own key (ssh-keygen -lf "
                "/etc/ssh/ssh_host_*_key.pub on its console) before trusting it.")
        return bool(self._ask(lambda: ConfirmPhraseScreen(f"The host key of {label} is not known yet", text,
                                                          "yes")))

    def sudo_password(self, who: str) -> str:
        from hawizard.common.errors import InputError
        from hawizard.ui.dialogs import PromptScreen

        answer = self._ask(lambda: PromptScreen(f"sudo password for {who}", "Asked once; never stored or logged.",
                                                password=True))
        if answer is None:
            raise InputError(f"{who} needs a sudo password and none was given")
        return answer
