"""schemathesis against the REST API's own OpenAPI spec: every operation, for a signed-in user
of each role, with generated input; none may answer 5xx.

Each role's run is bounded (``EXAMPLES`` per operation) and derandomized, so it is the same run
every time and takes seconds. The records of two regions exist, so reads and writes reach real
rows and the jurisdiction filters, not only empty tables."""
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from app.models import EnterpriseState, NeedState
from helpers import api_headers

EXAMPLES = 10
STATEFUL_EXAMPLES = 30
ROLES = ["Admin", "Platform", "Province", "Bureau", "Enterprise", "Researcher"]


@pytest.fixture()
def spec(client, make):
    make.user("Admin", "spec_reader")
    response = client.get("/api/v1/_openapi", headers=api_headers(client, "spec_reader"))
    assert response.status_code == 200
    return response.json


@pytest.fixture()
def people(make):
    """A region A with its bureau, an enterprise with needs, a researcher with a proposal."""
    enterprise = make.enterprise("420100", state=EnterpriseState.submitted)
    other = make.enterprise("420500")
    researcher = make.researcher("420100")
    published = make.need(enterprise, NeedState.published)
    make.need(enterprise, NeedState.draft)
    make.need(other, NeedState.draft)
    proposal = make.proposal(published, researcher)
    make.project(make.contract(published, researcher))
    assert proposal.id
    return {
        "Admin": make.user("Admin", "fuzz_admin"),
        "Platform": make.user("Platform", "fuzz_platform"),
        "Province": make.user("Province", "fuzz_province"),
        "Bureau": make.user("Bureau", "fuzz_bureau", region_id=make.region("420100").id),
        "Enterprise": make.user("Enterprise", "fuzz_ent", enterprise_id=enterprise.id),
        "Researcher": make.user("Researcher", "fuzz_res", researcher_id=researcher.id),
    }


def run_operations(schema, headers):
    """Run every operation; return (examples run, [(operation, input, error)])."""
    examples, failures = 0, []
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), print_blob=False)
        @given(case=operation.as_strategy())
        def run(case):
            nonlocal examples
            examples += 1
            try:
                case.call_and_validate(headers=headers, checks=[not_a_server_error])
            except Exception as exc:  # collect them all, so one run lists every 500
                failures.append((operation.label, case.path_parameters, case.query,
                                 case.body if isinstance(case.body, (dict, list, str)) else None,
                                 str(exc)[:300]))

        run()
    return examples, failures


@pytest.mark.parametrize("role", ROLES)
def test_no_operation_answers_5xx(app, client, spec, people, role):
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app  # calls go straight to the WSGI app, in this test's transaction
    headers = api_headers(client, people[role].username)
    examples, failures = run_operations(schema, headers)
    operations = len(list(schema.get_all_operations()))
    print(f"{role}: {operations} operations, {examples} examples")
    assert operations == len([m for p in spec["paths"].values() for m in p]) >= 20
    assert examples >= operations
    assert not failures, "\n".join(map(repr, failures))


STATEFUL_ROLES = ["Admin", "Enterprise", "Bureau"]


def _linked(spec):
    """The spec with OpenAPI links between each resource's operations: a list's first id
    (``ids/0``) and a created row's id (``id``) feed the get, edit and delete of that row."""
    paths = spec["paths"]
    for path, operations in paths.items():
        item = path.rstrip("/") + "/{pk}"
        if not path.endswith("/") or item not in paths:
            continue
        pointer_to_item = item.replace("~", "~0").replace("/", "~1")
        targets = {method: f"#/paths/{pointer_to_item}/{method}" for method in paths[item]}
        for method, status, pointer in (("get", "200", "/ids/0"), ("post", "201", "/id")):
            response = paths[path].get(method, {}).get("responses", {}).get(status)
            if response is None:
                continue
            response["links"] = {
                f"{target}Row": {"operationRef": reference,
                                 "parameters": {"pk": f"$response.body#{pointer}"}}
                for target, reference in targets.items()}
    return spec


@pytest.mark.parametrize("role", STATEFUL_ROLES)
def test_no_sequence_of_operations_answers_5xx(app, client, spec, people, role):
    """Stateful: schemathesis chains operations by the links it infers from the spec (an id
    that one operation returns, fed to the next: post a need, then get, edit and delete it),
    so the later calls reach rows the earlier ones made, not only random ids."""
    schema = schemathesis.openapi.from_dict(_linked(spec))
    schema.app = app
    headers = api_headers(client, people[role].username)
    calls, failures = [], []

    class Sequences(schema.as_state_machine()):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, **kwargs):
            calls.append(case.operation.label)
            if response.status_code >= 500:
                failures.append((case.operation.label, case.path_parameters, case.body,
                                 response.status_code, response.text[:300]))

    Sequences.run(settings=settings(
        max_examples=STATEFUL_EXAMPLES, stateful_step_count=6, derandomize=True, database=None,
        deadline=None, suppress_health_check=list(HealthCheck), print_blob=False))
    print(f"{role}: {len(calls)} stateful calls over {len(set(calls))} operations")
    assert len(set(calls)) >= 10
    assert not failures, "\n".join(map(repr, failures))
