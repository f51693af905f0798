"""Rules of mentor matching: mentor profiles, cycles, founders' requests, pins and forbidden pairs, priority groups,
running the matching (mentoring.matching), publishing it, and mentors accepting or declining.

Every change of a cycle's matches runs under the cycle's lock (a conditional UPDATE of its row: a row lock on
PostgreSQL, the write lock on SQLite), so two organizers running at once, or two mentors declining at once, can
never put a mentor above capacity. A service checks everything before it writes anything, so a refused request
leaves nothing half-applied. Services flush; callers commit once.

The rules live in one module per concern: inputs (vocabulary and checks), profiles, cycles, requests, runs
(organizers' decisions, running the matching, publishing) and answers (mentors answer and rank; what each person
sees). This module gathers their public names, so callers keep `from mentoring import services`.
"""

from mentoring.answers import (
    get_match,
    my_matches,
    my_mentees,
    ranking_of,
    requests_to_rank,
    respond_to_match,
    set_ranking,
    visible_match,
)
from mentoring.cycles import (
    check_cycle_settings,
    create_cycle,
    get_cycle,
    list_cycles,
    lock_cycle,
    open_cycles,
    require_not_published,
)
from mentoring.inputs import (
    EXPERTISE,
    INDUSTRY_SUGGESTIONS,
    LANGUAGES,
    MATCHING_MESSAGES,
    MAX_CAPACITY,
    MAX_DESCRIPTION,
    MAX_INDUSTRIES,
    MAX_NEEDS,
    MAX_PER_FOUNDER,
    MAX_TAG_LENGTH,
    MAX_WEIGHT,
    STAGES,
    check_codes,
    check_free_tags,
    check_mentor_ids,
    invalid_input,
    normalise_tag,
    require_organizer,
)
from mentoring.profiles import (
    list_mentors,
    mentor_profile_of,
    save_mentor_profile,
)
from mentoring.requests import (
    my_requests,
    request_of,
    requests_of_cycle,
    submit_request,
    update_request,
    withdraw_request,
)
from mentoring.runs import (
    delete_pair_rule,
    founder_inputs,
    match_reasons,
    matches_of_cycle,
    mentor_inputs,
    priority_groups,
    proposal,
    publish_cycle,
    rules_of_cycle,
    run_matching,
    set_pair_rule,
    set_priority_group,
)

__all__ = [
    "EXPERTISE",
    "STAGES",
    "LANGUAGES",
    "INDUSTRY_SUGGESTIONS",
    "MAX_CAPACITY",
    "MAX_NEEDS",
    "MAX_INDUSTRIES",
    "MAX_TAG_LENGTH",
    "MAX_DESCRIPTION",
    "MAX_PER_FOUNDER",
    "MAX_WEIGHT",
    "MATCHING_MESSAGES",
    "normalise_tag",
    "invalid_input",
    "check_codes",
    "check_free_tags",
    "check_mentor_ids",
    "require_organizer",
    "mentor_profile_of",
    "save_mentor_profile",
    "list_mentors",
    "create_cycle",
    "check_cycle_settings",
    "get_cycle",
    "list_cycles",
    "open_cycles",
    "lock_cycle",
    "require_not_published",
    "submit_request",
    "update_request",
    "withdraw_request",
    "my_requests",
    "request_of",
    "requests_of_cycle",
    "set_pair_rule",
    "delete_pair_rule",
    "rules_of_cycle",
    "set_priority_group",
    "priority_groups",
    "founder_inputs",
    "mentor_inputs",
    "run_matching",
    "match_reasons",
    "proposal",
    "matches_of_cycle",
    "publish_cycle",
    "get_match",
    "visible_match",
    "respond_to_match",
    "requests_to_rank",
    "ranking_of",
    "set_ranking",
    "my_matches",
    "my_mentees",
]
