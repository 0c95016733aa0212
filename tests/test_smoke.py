from helpers import login


def test_public_home_shows_the_2020_round(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "鄂科技通〔2020〕67号" in response.get_data(as_text=True)


def test_bureau_logs_in_and_sees_only_its_region(client, make):
    wuhan_ent = make.enterprise("420100")
    yichang_ent = make.enterprise("420500")
    make.user("Bureau", "bw", region_id=make.region("420100").id)
    login(client, "bw")
    page = client.get("/enterprisemodelview/list/").get_data(as_text=True)
    assert wuhan_ent.name in page
    assert yichang_ent.name not in page
