"""Platform REST v3 (clover-api.md §4)."""


def test_merchant_name_owner_and_address_on_expand(clover, identity):
    plain = clover.v3("").json()
    assert (plain["id"], plain["name"]) == (identity["merchant_id"], identity["merchant_name"])
    assert "address" not in plain and set(plain["owner"]) == {"id"}
    expanded = clover.v3("", params={"expand": "address,owner"}).json()
    assert expanded["address"]["city"] == "Springfield"
    assert expanded["address"]["zip"] == "62701"
    assert expanded["owner"]["name"] == "Pat Owner"


def test_devices(clover, identity):
    devices = clover.v3("/devices").json()["elements"]
    assert [(d["id"], d["serial"], d["name"], d["model"]) for d in devices] == [
        (d["id"], d["serial"], d["name"], d["model"]) for d in identity["devices"]]
    assert all(d["merchant"] == {"id": identity["merchant_id"]} for d in devices)


def test_online_charge_is_a_payment_with_the_same_id(clover):
    charge = clover.paid_charge(1200, external_reference_id="INV42")
    clover.refund({"charge": charge["id"], "amount": 200})
    payment = clover.v3(f"/payments/{charge['id']}").json()
    assert payment["id"] == charge["id"]
    assert (payment["amount"], payment["result"], payment["externalReferenceId"]) == (
        1200, "SUCCESS", "INV42")
    assert payment["order"] == {"id": charge["order"]}
    transaction = payment["cardTransaction"]
    assert (transaction["last4"], transaction["cardType"], transaction["authCode"]) == (
        "4242", "VISA", charge["auth_code"])
    assert (transaction["state"], transaction["type"]) == ("CLOSED", "AUTH")
    assert [r["amount"] for r in payment["refunds"]["elements"]] == [200]
    listed = clover.v3("/payments").json()["elements"]
    assert [p["id"] for p in listed] == [charge["id"]]


def test_payment_results(clover):
    auth = clover.paid_charge(capture=False)
    view = clover.v3(f"/payments/{auth['id']}").json()
    assert (view["result"], view["cardTransaction"]["type"]) == ("AUTH", "PREAUTH")
    declined = clover.charge(source=clover.token("5424180273333333")).json()["error"]["charge"]
    failed = clover.v3(f"/payments/{declined}").json()
    assert (failed["result"], failed["cardTransaction"]["cardType"]) == ("FAIL", "MC")


def test_unknown_payment_is_404(clover):
    assert clover.v3("/payments/NOSUCHPAYMENT").status_code == 404


def test_a_token_of_merchant_a_cannot_read_merchant_b(clover, control):
    other = control.add_merchant("Other Store", devices=2)
    for path in ("", "/devices", "/payments"):
        response = clover.call("GET", f"/v3/merchants/{other['merchant_id']}{path}")
        assert response.status_code == 401, path
    own = clover.call("GET", f"/v3/merchants/{other['merchant_id']}/devices",
                      token=other["private_key"]).json()["elements"]
    assert len(own) == 2


def test_ecomm_payment_configs(clover, control, identity):
    assert clover.v3("/ecomm_payment_configs").json() == {"surcharging": {"supported": False}}
    control.configure(surcharge_supported=True, surcharge_rate=0.025)
    assert clover.v3("/ecomm_payment_configs").json() == {
        "surcharging": {"supported": True, "rate": 0.025}}


def test_ecomm_payment_configs_from_the_browser_with_the_pakms_key(clover, identity):
    url = f"{clover.base_url}/v3/merchants/{identity['merchant_id']}/ecomm_payment_configs"
    response = clover.session.get(url, params={"pakmsKey": identity["pakms_key"]}, timeout=10)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert clover.session.get(url, params={"pakmsKey": "wrong"}, timeout=10).status_code == 401
