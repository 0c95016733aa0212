"""Synthetic but realistic data for the benchmarks: Chinese firm names and need texts.

A need's sections read like the standardized template of the notice (background, problem,
targets, basis), built from the taxonomy's ~480 technical terms so that a word matches about as
many needs as it would in real data, and long enough (600–900 characters) that scanning them
costs what it costs on a real need list.
"""
FIRMS = ("光电", "精密", "智能", "新材料", "生物", "能源", "装备", "环保", "信息", "化工")
CITIES = ("武汉", "宜昌", "襄阳", "荆州", "黄石", "十堰", "孝感", "荆门", "鄂州", "黄冈")
VERBS = ("中的", "与", "驱动的", "用于", "结合")
ENDINGS = ("关键技术攻关", "工艺优化", "国产化替代", "性能提升", "应用研究", "检测方法")
PRODUCTS = ("控制器", "传感模组", "检测设备", "功能薄膜", "精密零部件", "智能终端", "工业软件",
            "复合材料", "催化剂", "诊断试剂")
ISSUES = ("一致性差", "良品率偏低", "能耗偏高", "稳定性不足", "成本过高", "依赖进口",
          "寿命偏短", "响应速度慢")
METRICS = (("良品率", "%"), ("使用寿命", "小时"), ("检测精度", "微米"), ("响应时间", "毫秒"),
           ("单位能耗", "千瓦时/吨"), ("转化效率", "%"), ("故障率", "‰"), ("产能", "件/天"))
EQUIPMENT = ("中试生产线", "恒温恒湿实验室", "三坐标测量仪", "高效液相色谱仪", "扫描电镜",
             "激光加工平台", "环境试验箱")


def firm_name(rnd, i):
    return f"{rnd.choice(CITIES)}{rnd.choice(FIRMS)}{i}科技有限公司"


def need_text(rnd, vocabulary):
    """Title, keywords and template sections of one need."""
    first, second, third, fourth = rnd.sample(vocabulary, 4)
    product = rnd.choice(PRODUCTS)
    issue = rnd.choice(ISSUES)
    (m1, u1), (m2, u2) = rnd.sample(METRICS, 2)
    title = f"{first}{rnd.choice(VERBS)}{second}{rnd.choice(ENDINGS)}"
    background = (
        f"我公司位于{rnd.choice(CITIES)}，是一家专注于{product}研发、生产和销售的科技型中小企业，"
        f"产品广泛应用于{third}和{fourth}等领域，近三年营业收入年均增长{rnd.randint(8, 40)}%。"
        f"随着下游客户对产品质量和交付周期的要求不断提高，现有{first}工艺已难以满足市场需求，"
        f"同类进口产品价格高、供货周期长，企业迫切需要通过产学研合作提升自主创新能力，"
        f"形成具有自主知识产权的核心技术，增强在省内外市场的竞争力。")
    problem = (
        f"目前在{first}环节存在{issue}的问题，{m1}仅为{rnd.randint(50, 90)}{u1}，"
        f"与国内先进水平存在明显差距；在{second}方面缺乏系统的理论分析和试验验证手段，"
        f"关键参数主要依靠经验调整，批次之间波动较大。企业自身研发力量有限，"
        f"希望高校或科研院所的专家团队针对{first}与{second}的耦合机理开展研究，"
        f"提出可在现有产线上实施的改进方案，并协助完成中试验证和工艺定型。")
    targets = (
        f"1. {m1}提高到{rnd.randint(91, 99)}{u1}以上；"
        f"2. {m2}达到{rnd.randint(10, 500)}{u2}；"
        f"3. 形成{first}工艺规范一套，申请发明专利{rnd.randint(1, 3)}项；"
        f"4. 完成不少于{rnd.randint(3, 10)}批次的中试验证，产品通过第三方检测。")
    basis = (
        f"公司现有研发人员{rnd.randint(8, 60)}人，其中高级职称{rnd.randint(1, 8)}人，"
        f"建有{rnd.choice(EQUIPMENT)}和{rnd.choice(EQUIPMENT)}，已获授权专利{rnd.randint(3, 30)}项，"
        f"在{third}方面积累了较为完整的工艺数据和客户应用反馈，可为合作研究提供试验场地、"
        f"样品和配套资金。")
    return dict(title=title, keywords=f"{first} {second}", background=background,
                problem=problem, targets=targets, basis=basis,
                cooperation_mode="委托开发", timeline=f"{rnd.randint(6, 18)}个月")


SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬斌建国志海"
UNITS = ("大学", "理工大学", "科技大学", "研究院", "工业技术研究院")


def researcher_text(rnd, fields):
    """Name, keywords, expertise and achievements of a researcher working in ``fields``
    (a list of (field_id, [keywords]) pairs): their words mostly come from those fields."""
    words = [w for _fid, keywords in fields for w in keywords]
    picked = rnd.sample(words, min(4, len(words)))
    name = rnd.choice(SURNAMES) + "".join(rnd.choice(GIVEN) for _ in range(rnd.randint(1, 2)))
    expertise = (f"长期从事{picked[0]}与{picked[-1]}方面的研究，熟悉{picked[1 % len(picked)]}"
                 f"的工艺机理和测试方法，具有丰富的产学研合作经验。")
    achievements = (f"主持{rnd.randint(1, 8)}项省部级科研项目，发表论文{rnd.randint(5, 60)}篇，"
                    f"授权发明专利{rnd.randint(1, 20)}项，成果在{rnd.choice(CITIES)}等地企业应用。")
    return dict(name=name, keywords=" ".join(picked), expertise=expertise,
                achievements=achievements)
