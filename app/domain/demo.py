"""A small demo dataset for ``python run.py --demo`` (never loaded in production).

One account per role with a random password printed once, a round whose phases are open
today beside the 2020 one, and enterprises, researchers and needs in all five categories.
Idempotent: existing rows and accounts are left as they are.
"""
import datetime as dt
from decimal import Decimal

from flask import current_app
from sqlalchemy import select
from stdnum.cn import uscc

from app.core.access.auth_policy import generate_password
from app.extensions import db
from app.models import (
    Enterprise,
    EnterpriseState,
    HighTechZone,
    Institution,
    InstitutionType,
    Need,
    NeedCategory,
    NeedState,
    Position,
    ProgramRound,
    Region,
    Researcher,
    ResearcherState,
    TechField,
    WhitelistStatus,
)
from app.models.mixins import utcnow
from app.utils import clock

ENTERPRISES = [  # name, region code, field code
    ("武汉光谷智能传感科技有限公司", "420100", "0106"),
    ("武汉华星新材料股份有限公司", "420100", "0401"),
    ("宜昌三峡绿色能源科技有限公司", "420500", "0601"),
    ("襄阳汉江智能装备有限公司", "420600", "0801"),
    ("孝感楚天生物医药有限公司", "420900", "0201"),
    ("荆门数智农业服务有限公司", "420800", "0501"),
]
INSTITUTIONS = [
    ("武汉大学", InstitutionType.university, "420100"),
    ("华中科技大学", InstitutionType.university, "420100"),
    ("中国科学院武汉岩土力学研究所", InstitutionType.public_research_institute, "420100"),
    ("三峡大学", InstitutionType.university, "420500"),
]
RESEARCHERS = [  # name, institution, position, title, field codes, keywords
    ("曾晓明", "武汉大学", Position.staff_researcher, "教授", ["0106", "0101"], "传感器 物联网 信号处理"),
    ("李静", "华中科技大学", Position.postdoc, "博士后", ["0401", "0402"], "复合材料 涂层 表面改性"),
    ("王磊", "三峡大学", Position.phd_student, "博士研究生", ["0601"], "光伏 储能 电池管理"),
    ("张伟", "中国科学院武汉岩土力学研究所", Position.staff_researcher, "研究员", ["0801", "0701"],
     "数控机床 工业机器人 故障诊断"),
]
NEED_TEMPLATES = [
    ("product_innovation", "高精度MEMS压力传感器温漂补偿", "传感器 温度补偿 标定"),
    ("common_technology", "锂电池隔膜涂层一致性控制", "涂层 锂电池 隔膜"),
    ("transformation_upgrade", "传统铸造车间数字化改造", "数字化车间 MES 工业互联网"),
    ("joint_rd_platform", "共建光伏储能联合实验室", "光伏 储能 实验室"),
    ("innovation_management_design", "智能装备外观与人机交互设计", "工业设计 人机交互 外观设计"),
]


def _credit_code(seq: int) -> str:
    body = f"914201{seq:02d}MA4K{seq:04d}"[:17]
    return body + uscc.calc_check_digit(body)


def _demo_round():
    today = clock.today()
    code = f"HB-DEMO-{today.year}"
    found = db.session.scalars(select(ProgramRound).where(ProgramRound.code == code)).first()
    if found:
        return found
    demo_round = ProgramRound(
        code=code, name=f"{today.year}年科技人员服务企业专项行动（演示批次）",
        name_en=f"{today.year} demo round", province="湖北省",
        needs_filing_start=today - dt.timedelta(days=30), needs_filing_end=today + dt.timedelta(days=60),
        matching_end=today + dt.timedelta(days=120), execution_end=today + dt.timedelta(days=300),
        evaluation_end=today + dt.timedelta(days=360), min_need_amount=Decimal(100000),
        funding_cap=Decimal(100000), project_quota=300, projects_per_enterprise=1)
    db.session.add(demo_round)
    db.session.flush()
    return demo_round


def _account(username, role, lines, **links):
    sm = current_app.appbuilder.sm
    if sm.find_user(username=username):
        lines.append(f"  {role:<10} {username:<14} (exists; password unchanged)")
        return
    password = generate_password(12)
    user = sm.add_user(username, username, role, f"{username}@demo.platform.local",
                       sm.find_role(role), password=password)
    if not user:
        raise RuntimeError(f"could not create demo user {username}")
    for key, value in links.items():
        setattr(user, key, value)
    db.session.commit()
    lines.append(f"  {role:<10} {username:<14} {password}")


def load_demo() -> list[str]:
    """Create the demo rows and accounts; return the lines to print. Commits."""
    by_code = lambda model, code: db.session.scalars(select(model).where(model.code == code)).one()
    demo_round = _demo_round()
    categories = {c.code: c for c in db.session.scalars(select(NeedCategory))}
    enterprises = []
    for seq, (name, region_code, field_code) in enumerate(ENTERPRISES, start=1):
        found = db.session.scalars(select(Enterprise).where(Enterprise.name == name)).first()
        if found is None:
            region = by_code(Region, region_code)
            zone = db.session.scalars(select(HighTechZone).where(
                HighTechZone.region_id == region.id)).first()
            found = Enterprise(
                name=name, credit_code=_credit_code(seq), sme_number=f"2020420{seq:03d}0{seq:05d}",
                region=region, zone=zone, field=by_code(TechField, field_code),
                address=f"{region.name}高新大道{seq}号", contact_name="联系人",
                phone=f"1380000{seq:04d}", email=f"enterprise{seq}@demo.platform.local",
                state=EnterpriseState.verified, whitelist_status=WhitelistStatus.found)
            db.session.add(found)
        enterprises.append(found)
    institutions = {}
    for name, kind, region_code in INSTITUTIONS:
        found = db.session.scalars(select(Institution).where(Institution.name == name)).first()
        institutions[name] = found or Institution(name=name, type=kind,
                                                  region=by_code(Region, region_code))
        db.session.add(institutions[name])
    researchers = []
    for seq, (name, inst, position, title, fields, keywords) in enumerate(RESEARCHERS, start=1):
        found = db.session.scalars(select(Researcher).where(
            Researcher.email == f"researcher{seq}@demo.platform.local")).first()
        if found is None:
            found = Researcher(
                name=name, institution=institutions[inst], position=position, title=title,
                degree="博士", fields=[by_code(TechField, c) for c in fields], keywords=keywords,
                expertise=f"长期从事{keywords.replace(' ', '、')}等方向研究。", phone=f"1390000{seq:04d}",
                email=f"researcher{seq}@demo.platform.local", willing_to_serve=True,
                state=ResearcherState.approved)
            db.session.add(found)
        researchers.append(found)
    db.session.flush()
    for seq, enterprise in enumerate(enterprises):
        code, title, keywords = NEED_TEMPLATES[seq % len(NEED_TEMPLATES)]
        if db.session.scalars(select(Need).where(Need.title == title,
                                                 Need.enterprise_id == enterprise.id)).first():
            continue
        published = seq < 5
        db.session.add(Need(
            round=demo_round, enterprise=enterprise, title=title, category=categories[code],
            field=enterprise.field, background=f"{enterprise.name}在生产中遇到的技术瓶颈。",
            problem=f"{title}中的关键技术问题。", targets="良品率提升至98%以上，成本降低15%。",
            basis="已有中试产线和检测设备。", cooperation_mode="委托开发", timeline="12个月",
            keywords=keywords, amount=Decimal(200000 + 50000 * seq), contact_name="联系人",
            contact_phone=enterprise.phone,
            state=NeedState.published if published else NeedState.submitted,
            submitted_at=utcnow(), published_at=utcnow() if published else None))
    db.session.commit()
    wuhan, yichang = by_code(Region, "420100"), by_code(Region, "420500")
    lines = ["demo accounts (role, username, password):"]
    _account("admin", "Admin", lines)
    _account("platform", "Platform", lines)
    _account("province", "Province", lines)
    _account("bureau_wuhan", "Bureau", lines, region_id=wuhan.id)
    _account("bureau_yichang", "Bureau", lines, region_id=yichang.id)
    _account("enterprise1", "Enterprise", lines, enterprise_id=enterprises[0].id)
    _account("enterprise3", "Enterprise", lines, enterprise_id=enterprises[2].id)
    _account("researcher1", "Researcher", lines, researcher_id=researchers[0].id)
    _account("researcher2", "Researcher", lines, researcher_id=researchers[1].id)
    return lines
