"""Reference data for the Hubei "科技人员服务企业对接平台".

Pure data, no behaviour. Everything here is meant to be loaded into the
database by the seeding code and is imported by other modules, so the names
and shapes of the constants below are part of the interface.

Sources:

* Administrative divisions of Hubei: GB/T 2260 "中华人民共和国行政区划代码"
  (民政部 / 国家统计局 code tables, 42 湖北省).
* National high-tech zones: 科技部火炬中心 list of 国家高新技术产业开发区 and
  the State Council approvals (e.g. 国函〔2018〕42号 潜江, 2018 approvals of
  荆州 and 黄石大冶湖, which brought Hubei to 12 national zones).
* Provincial high-tech zones: 湖北省人民政府 approvals (e.g. 鄂政函〔2019〕14号,
  十堰郧阳高新技术产业园区 renamed 十堰高新技术产业园区) and 湖北省科技厅
  高新区创新驱动发展评价 reports (2018: 12 national + 20 provincial zones).
  Only zones whose existence and level could be confirmed are listed.
* Technology domains: 《国家重点支持的高新技术领域》, annex to
  《高新技术企业认定管理办法》 (国科发火〔2016〕32号), 2016 edition.
* Need categories, institution types and the 2020 round: 湖北省科学技术厅
  《关于开展2020年科技人员服务企业专项行动·湖北专项的通知》 (鄂科技通〔2020〕67号).
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "REGIONS",
    "HIGH_TECH_ZONES",
    "TECH_DOMAINS",
    "NEED_CATEGORIES",
    "INSTITUTION_TYPES",
    "ROUND_2020",
]

# ---------------------------------------------------------------------------
# 1. Regions: the 17 city/prefecture-level divisions of Hubei (GB/T 2260).
# ---------------------------------------------------------------------------
REGIONS: tuple[dict[str, str], ...] = (
    {
        "code": "420100",
        "name": "武汉市",
        "short": "武汉",
        "name_en": "Wuhan",
        "kind": "prefecture_city",
    },
    {
        "code": "420200",
        "name": "黄石市",
        "short": "黄石",
        "name_en": "Huangshi",
        "kind": "prefecture_city",
    },
    {
        "code": "420300",
        "name": "十堰市",
        "short": "十堰",
        "name_en": "Shiyan",
        "kind": "prefecture_city",
    },
    {
        "code": "420500",
        "name": "宜昌市",
        "short": "宜昌",
        "name_en": "Yichang",
        "kind": "prefecture_city",
    },
    {
        "code": "420600",
        "name": "襄阳市",
        "short": "襄阳",
        "name_en": "Xiangyang",
        "kind": "prefecture_city",
    },
    {
        "code": "420700",
        "name": "鄂州市",
        "short": "鄂州",
        "name_en": "Ezhou",
        "kind": "prefecture_city",
    },
    {
        "code": "420800",
        "name": "荆门市",
        "short": "荆门",
        "name_en": "Jingmen",
        "kind": "prefecture_city",
    },
    {
        "code": "420900",
        "name": "孝感市",
        "short": "孝感",
        "name_en": "Xiaogan",
        "kind": "prefecture_city",
    },
    {
        "code": "421000",
        "name": "荆州市",
        "short": "荆州",
        "name_en": "Jingzhou",
        "kind": "prefecture_city",
    },
    {
        "code": "421100",
        "name": "黄冈市",
        "short": "黄冈",
        "name_en": "Huanggang",
        "kind": "prefecture_city",
    },
    {
        "code": "421200",
        "name": "咸宁市",
        "short": "咸宁",
        "name_en": "Xianning",
        "kind": "prefecture_city",
    },
    {
        "code": "421300",
        "name": "随州市",
        "short": "随州",
        "name_en": "Suizhou",
        "kind": "prefecture_city",
    },
    {
        "code": "422800",
        "name": "恩施土家族苗族自治州",
        "short": "恩施州",
        "name_en": "Enshi Tujia and Miao Autonomous Prefecture",
        "kind": "autonomous_prefecture",
    },
    {
        "code": "429004",
        "name": "仙桃市",
        "short": "仙桃",
        "name_en": "Xiantao",
        "kind": "direct_city",
    },
    {
        "code": "429005",
        "name": "潜江市",
        "short": "潜江",
        "name_en": "Qianjiang",
        "kind": "direct_city",
    },
    {
        "code": "429006",
        "name": "天门市",
        "short": "天门",
        "name_en": "Tianmen",
        "kind": "direct_city",
    },
    {
        "code": "429021",
        "name": "神农架林区",
        "short": "神农架",
        "name_en": "Shennongjia Forestry District",
        "kind": "forestry_district",
    },
)

# ---------------------------------------------------------------------------
# 2. High-tech zones in Hubei (status as of 2020).
#
# National: the 12 国家高新技术产业开发区.
# Provincial: only the 省级高新区 confirmed by official sources; Hubei had
# about 20 provincial zones in 2019-2020, the rest are not listed here
# because their exact names/levels could not be verified.
#
# Regions without a zone of their own in this table:
#   * 鄂州市 (420700): its national-level park is 葛店经济技术开发区, an
#     economic-and-technological development zone, not a high-tech zone; no
#     provincial high-tech zone could be confirmed.
#   * 神农架林区 (429021): no high-tech zone.
# ---------------------------------------------------------------------------
HIGH_TECH_ZONES: tuple[dict[str, str], ...] = (
    # -- national ------------------------------------------------------------
    {
        "code": "HTZ-N-01",
        "name": "武汉东湖新技术开发区",
        "name_en": "Wuhan East Lake High-tech Zone",
        "level": "national",
        "region_code": "420100",
    },
    {
        "code": "HTZ-N-02",
        "name": "襄阳高新技术产业开发区",
        "name_en": "Xiangyang High-tech Zone",
        "level": "national",
        "region_code": "420600",
    },
    {
        "code": "HTZ-N-03",
        "name": "宜昌高新技术产业开发区",
        "name_en": "Yichang High-tech Zone",
        "level": "national",
        "region_code": "420500",
    },
    {
        "code": "HTZ-N-04",
        "name": "孝感高新技术产业开发区",
        "name_en": "Xiaogan High-tech Zone",
        "level": "national",
        "region_code": "420900",
    },
    {
        "code": "HTZ-N-05",
        "name": "荆门高新技术产业开发区",
        "name_en": "Jingmen High-tech Zone",
        "level": "national",
        "region_code": "420800",
    },
    {
        "code": "HTZ-N-06",
        "name": "随州高新技术产业开发区",
        "name_en": "Suizhou High-tech Zone",
        "level": "national",
        "region_code": "421300",
    },
    {
        "code": "HTZ-N-07",
        "name": "仙桃高新技术产业开发区",
        "name_en": "Xiantao High-tech Zone",
        "level": "national",
        "region_code": "429004",
    },
    {
        "code": "HTZ-N-08",
        "name": "咸宁高新技术产业开发区",
        "name_en": "Xianning High-tech Zone",
        "level": "national",
        "region_code": "421200",
    },
    {
        "code": "HTZ-N-09",
        "name": "黄冈高新技术产业开发区",
        "name_en": "Huanggang High-tech Zone",
        "level": "national",
        "region_code": "421100",
    },
    {
        "code": "HTZ-N-10",
        "name": "荆州高新技术产业开发区",
        "name_en": "Jingzhou High-tech Zone",
        "level": "national",
        "region_code": "421000",
    },
    {
        "code": "HTZ-N-11",
        "name": "黄石大冶湖高新技术产业开发区",
        "name_en": "Huangshi Dayehu High-tech Zone",
        "level": "national",
        "region_code": "420200",
    },
    {
        "code": "HTZ-N-12",
        "name": "潜江高新技术产业开发区",
        "name_en": "Qianjiang High-tech Zone",
        "level": "national",
        "region_code": "429005",
    },
    # -- provincial ----------------------------------------------------------
    {
        # Ranked first among provincial zones in the 2018 provincial evaluation.
        "code": "HTZ-P-01",
        "name": "黄石高新技术产业园区",
        "name_en": "Huangshi High-tech Industrial Park",
        "level": "provincial",
        "region_code": "420200",
    },
    {
        # Renamed from 十堰郧阳高新技术产业园区 by 鄂政函〔2019〕14号.
        "code": "HTZ-P-02",
        "name": "十堰高新技术产业园区",
        "name_en": "Shiyan High-tech Industrial Park",
        "level": "provincial",
        "region_code": "420300",
    },
    {
        # Exists as 赤壁高新区 (咸宁市赤壁市); approval date not verified.
        "code": "HTZ-P-03",
        "name": "赤壁高新技术产业园区",
        "name_en": "Chibi High-tech Industrial Park",
        "level": "provincial",
        "region_code": "421200",
    },
    {
        "code": "HTZ-P-04",
        "name": "恩施高新技术产业园区",
        "name_en": "Enshi High-tech Industrial Park",
        "level": "provincial",
        "region_code": "422800",
    },
    {
        # Set up on 天门经济开发区, approved by the provincial government in
        # December 2011.
        "code": "HTZ-P-05",
        "name": "天门高新技术产业园区",
        "name_en": "Tianmen High-tech Industrial Park",
        "level": "provincial",
        "region_code": "429006",
    },
)

# ---------------------------------------------------------------------------
# 3. Technology domains: 《国家重点支持的高新技术领域》 (2016 edition).
#
# Domain and field names are the official first- and second-level headings,
# in official order. Field code = domain code + two-digit official index.
# "keywords" are typical technical terms of the field, used as a jieba user
# dictionary for need/expert matching; they are not part of the official text.
# ---------------------------------------------------------------------------
TECH_DOMAINS: tuple[dict[str, Any], ...] = (
    {
        "code": "01",
        "name": "电子信息",
        "name_en": "Electronic information",
        "fields": (
            {
                "code": "0101",
                "name": "软件",
                "name_en": "Software",
                "keywords": (
                    "操作系统",
                    "数据库",
                    "中间件",
                    "嵌入式软件",
                    "工业软件",
                    "云计算",
                    "大数据",
                    "人工智能",
                    "地理信息系统",
                    "企业管理软件",
                    "物联网应用软件",
                ),
            },
            {
                "code": "0102",
                "name": "微电子技术",
                "name_en": "Microelectronics",
                "keywords": (
                    "集成电路",
                    "芯片设计",
                    "晶圆制造",
                    "封装测试",
                    "光刻",
                    "半导体工艺",
                    "光电子集成器件",
                    "EDA",
                    "SoC",
                    "硅光芯片",
                ),
            },
            {
                "code": "0103",
                "name": "计算机产品及其网络应用技术",
                "name_en": "Computer products and network applications",
                "keywords": (
                    "服务器",
                    "计算机终端",
                    "外围设备",
                    "存储设备",
                    "网络设备",
                    "路由器",
                    "交换机",
                    "边缘计算",
                    "网络应用",
                ),
            },
            {
                "code": "0104",
                "name": "通信技术",
                "name_en": "Communications",
                "keywords": (
                    "5G",
                    "光通信",
                    "光纤",
                    "光传输",
                    "移动通信",
                    "卫星通信",
                    "微波通信",
                    "宽带接入",
                    "物联网",
                    "基站",
                ),
            },
            {
                "code": "0105",
                "name": "广播影视技术",
                "name_en": "Broadcasting, film and television",
                "keywords": (
                    "广播电视",
                    "数字电视",
                    "超高清",
                    "数字电影",
                    "有线传输",
                    "无线覆盖",
                    "视频编码",
                    "音响",
                    "采编播",
                ),
            },
            {
                "code": "0106",
                "name": "新型电子元器件",
                "name_en": "New electronic components",
                "keywords": (
                    "半导体发光",
                    "LED",
                    "大功率半导体器件",
                    "IGBT",
                    "片式元件",
                    "敏感元器件",
                    "平板显示",
                    "OLED",
                    "机电组件",
                    "继电器",
                ),
            },
            {
                "code": "0107",
                "name": "信息安全技术",
                "name_en": "Information security",
                "keywords": (
                    "密码技术",
                    "身份认证",
                    "防火墙",
                    "入侵检测",
                    "漏洞扫描",
                    "数据加密",
                    "网络安全",
                    "安全审计",
                    "等级保护",
                    "态势感知",
                ),
            },
            {
                "code": "0108",
                "name": "智能交通和轨道交通技术",
                "name_en": "Intelligent transportation and rail transit",
                "keywords": (
                    "智能交通",
                    "交通信号控制",
                    "车联网",
                    "ETC",
                    "轨道交通",
                    "列车控制",
                    "CBTC",
                    "车载电子",
                    "船载电子",
                    "交通信息采集",
                ),
            },
        ),
    },
    {
        "code": "02",
        "name": "生物与新医药",
        "name_en": "Biotechnology and new medicine",
        "fields": (
            {
                "code": "0201",
                "name": "医药生物技术",
                "name_en": "Pharmaceutical biotechnology",
                "keywords": (
                    "疫苗",
                    "抗体药物",
                    "基因工程",
                    "细胞治疗",
                    "基因治疗",
                    "生物检测",
                    "重组蛋白",
                    "生物大分子",
                    "诊断试剂",
                    "生物分离介质",
                ),
            },
            {
                "code": "0202",
                "name": "中药、天然药物",
                "name_en": "Traditional Chinese medicine and natural medicines",
                "keywords": (
                    "中药",
                    "中药材",
                    "中成药",
                    "天然药物",
                    "道地药材",
                    "中药饮片",
                    "有效成分提取",
                    "中药质量控制",
                    "中药资源",
                ),
            },
            {
                "code": "0203",
                "name": "化学药研发技术",
                "name_en": "Chemical drug research and development",
                "keywords": (
                    "化学药",
                    "创新药",
                    "仿制药",
                    "一致性评价",
                    "原料药",
                    "医药中间体",
                    "手性药物",
                    "晶型药物",
                    "药物合成",
                    "药物筛选",
                ),
            },
            {
                "code": "0204",
                "name": "药物新剂型与制剂创制技术",
                "name_en": "New dosage forms and formulation technology",
                "keywords": (
                    "新剂型",
                    "缓释制剂",
                    "控释制剂",
                    "靶向制剂",
                    "脂质体",
                    "纳米制剂",
                    "透皮给药",
                    "吸入制剂",
                    "药用辅料",
                    "制药装备",
                ),
            },
            {
                "code": "0205",
                "name": "医疗仪器、设备与医学专用软件",
                "name_en": "Medical instruments, equipment and medical software",
                "keywords": (
                    "医疗器械",
                    "医学影像",
                    "CT",
                    "磁共振",
                    "超声诊断",
                    "监护仪",
                    "体外诊断",
                    "康复器械",
                    "医学软件",
                    "远程医疗",
                ),
            },
            {
                "code": "0206",
                "name": "轻工和化工生物技术",
                "name_en": "Light-industry and chemical biotechnology",
                "keywords": (
                    "工业酶",
                    "生物催化",
                    "微生物发酵",
                    "生物反应器",
                    "生物分离",
                    "天然产物提取",
                    "食品安全检测",
                    "生物基化学品",
                    "益生菌",
                ),
            },
            {
                "code": "0207",
                "name": "农业生物技术",
                "name_en": "Agricultural biotechnology",
                "keywords": (
                    "育种",
                    "种质资源",
                    "良种繁育",
                    "健康养殖",
                    "水产养殖",
                    "动物疫病防控",
                    "病虫害防治",
                    "生物农药",
                    "生物肥料",
                    "智慧农业",
                    "农业装备",
                ),
            },
        ),
    },
    {
        "code": "03",
        "name": "航空航天",
        "name_en": "Aerospace",
        "fields": (
            {
                "code": "0301",
                "name": "航空技术",
                "name_en": "Aviation",
                "keywords": (
                    "飞行器",
                    "无人机",
                    "航空发动机",
                    "机载设备",
                    "航电系统",
                    "飞行控制",
                    "通用航空",
                    "空中交通管制",
                    "航空材料",
                    "适航",
                ),
            },
            {
                "code": "0302",
                "name": "航天技术",
                "name_en": "Space technology",
                "keywords": (
                    "卫星",
                    "运载火箭",
                    "卫星导航",
                    "北斗",
                    "遥感",
                    "航天测控",
                    "卫星有效载荷",
                    "卫星应用",
                    "商业航天",
                ),
            },
        ),
    },
    {
        "code": "04",
        "name": "新材料",
        "name_en": "New materials",
        "fields": (
            {
                "code": "0401",
                "name": "金属材料",
                "name_en": "Metallic materials",
                "keywords": (
                    "特种钢",
                    "精品钢材",
                    "铝合金",
                    "镁合金",
                    "钛合金",
                    "铜合金",
                    "稀土",
                    "粉末冶金",
                    "金属基复合材料",
                    "高温合金",
                    "非晶合金",
                ),
            },
            {
                "code": "0402",
                "name": "无机非金属材料",
                "name_en": "Inorganic non-metallic materials",
                "keywords": (
                    "结构陶瓷",
                    "功能陶瓷",
                    "陶瓷基复合材料",
                    "功能玻璃",
                    "特种玻璃",
                    "石墨烯",
                    "人工晶体",
                    "耐火材料",
                    "碳化硅",
                    "新型建材",
                ),
            },
            {
                "code": "0403",
                "name": "高分子材料",
                "name_en": "Polymer materials",
                "keywords": (
                    "功能高分子",
                    "工程塑料",
                    "特种工程塑料",
                    "合成橡胶",
                    "高性能纤维",
                    "碳纤维复合材料",
                    "树脂",
                    "薄膜材料",
                    "可降解塑料",
                    "高分子改性",
                ),
            },
            {
                "code": "0404",
                "name": "生物医用材料",
                "name_en": "Biomedical materials",
                "keywords": (
                    "生物医用材料",
                    "介入器械",
                    "血管支架",
                    "骨科植入物",
                    "人工关节",
                    "口腔材料",
                    "组织工程",
                    "医用敷料",
                    "止血材料",
                    "可吸收材料",
                ),
            },
            {
                "code": "0405",
                "name": "精细和专用化学品",
                "name_en": "Fine and specialty chemicals",
                "keywords": (
                    "催化剂",
                    "电子化学品",
                    "湿电子化学品",
                    "超细粉体",
                    "精细化工",
                    "表面活性剂",
                    "助剂",
                    "涂料",
                    "胶黏剂",
                    "磷化工",
                ),
            },
            {
                "code": "0406",
                "name": "与文化艺术产业相关的新材料",
                "name_en": "New materials for the culture and arts industries",
                "keywords": (
                    "文化载体材料",
                    "艺术专用材料",
                    "舞台专用材料",
                    "影视场景材料",
                    "印刷新材料",
                    "文物保护材料",
                ),
            },
        ),
    },
    {
        "code": "05",
        "name": "高技术服务",
        "name_en": "High-tech services",
        "fields": (
            {
                "code": "0501",
                "name": "研发与设计服务",
                "name_en": "R&D and design services",
                "keywords": (
                    "研发服务",
                    "技术开发",
                    "中试",
                    "工业设计",
                    "产品设计",
                    "工程设计",
                    "仿真分析",
                    "概念验证",
                    "设计服务",
                ),
            },
            {
                "code": "0502",
                "name": "检验检测认证与标准服务",
                "name_en": "Testing, inspection, certification and standards services",
                "keywords": (
                    "检验检测",
                    "第三方检测",
                    "计量校准",
                    "认证认可",
                    "标准化",
                    "标准制定",
                    "质量检测",
                    "可靠性测试",
                ),
            },
            {
                "code": "0503",
                "name": "信息技术服务",
                "name_en": "Information technology services",
                "keywords": (
                    "云服务",
                    "数据服务",
                    "数据中心",
                    "信息系统集成",
                    "运维服务",
                    "软件外包",
                    "数据分析",
                    "数据治理",
                    "SaaS",
                ),
            },
            {
                "code": "0504",
                "name": "高技术专业化服务",
                "name_en": "Specialized high-tech services",
                "keywords": (
                    "集成电路设计服务",
                    "芯片测试服务",
                    "芯片制造服务",
                    "专业技术服务",
                    "工程技术服务",
                    "科技咨询",
                    "技术外包",
                ),
            },
            {
                "code": "0505",
                "name": "知识产权与成果转化服务",
                "name_en": "Intellectual property and technology transfer services",
                "keywords": (
                    "知识产权",
                    "专利",
                    "专利分析",
                    "知识产权运营",
                    "技术转移",
                    "成果转化",
                    "技术交易",
                    "技术经纪",
                    "科技评估",
                ),
            },
            {
                "code": "0506",
                "name": "电子商务与现代物流技术",
                "name_en": "E-commerce and modern logistics",
                "keywords": (
                    "电子商务",
                    "跨境电商",
                    "电子支付",
                    "现代物流",
                    "供应链管理",
                    "智能仓储",
                    "智能物流",
                    "冷链物流",
                    "物流追溯",
                ),
            },
            {
                "code": "0507",
                "name": "城市管理与社会服务",
                "name_en": "Urban management and social services",
                "keywords": (
                    "智慧城市",
                    "城市管理",
                    "互联网教育",
                    "在线教育",
                    "健康管理",
                    "智慧医疗",
                    "智慧社区",
                    "体育服务",
                    "养老服务",
                ),
            },
            {
                "code": "0508",
                "name": "文化创意产业支撑技术",
                "name_en": "Supporting technologies for cultural and creative industries",
                "keywords": (
                    "文化创意",
                    "数字内容",
                    "动漫",
                    "游戏",
                    "虚拟现实",
                    "增强现实",
                    "数字出版",
                    "数字媒体",
                    "文化遗产数字化",
                ),
            },
        ),
    },
    {
        "code": "06",
        "name": "新能源与节能",
        "name_en": "New energy and energy saving",
        "fields": (
            {
                "code": "0601",
                "name": "可再生清洁能源",
                "name_en": "Renewable clean energy",
                "keywords": (
                    "太阳能",
                    "光伏",
                    "光热发电",
                    "风能",
                    "风电",
                    "生物质能",
                    "地热能",
                    "海洋能",
                    "分布式能源",
                ),
            },
            {
                "code": "0602",
                "name": "核能及氢能",
                "name_en": "Nuclear energy and hydrogen energy",
                "keywords": (
                    "核能",
                    "核电",
                    "核燃料",
                    "核安全",
                    "氢能",
                    "制氢",
                    "储氢",
                    "加氢站",
                ),
            },
            {
                "code": "0603",
                "name": "新型高效能量转换与储存技术",
                "name_en": "New high-efficiency energy conversion and storage",
                "keywords": (
                    "锂离子电池",
                    "动力电池",
                    "储能电池",
                    "燃料电池",
                    "超级电容器",
                    "热电转换",
                    "电池管理系统",
                    "固态电池",
                    "正极材料",
                    "负极材料",
                ),
            },
            {
                "code": "0604",
                "name": "高效节能技术",
                "name_en": "High-efficiency energy-saving technology",
                "keywords": (
                    "工业节能",
                    "余热回收",
                    "余热发电",
                    "蓄热式燃烧",
                    "热泵",
                    "建筑节能",
                    "能源管理",
                    "电机节能",
                    "变频调速",
                    "节能监测",
                ),
            },
        ),
    },
    {
        "code": "07",
        "name": "资源与环境",
        "name_en": "Resources and environment",
        "fields": (
            {
                "code": "0701",
                "name": "水污染控制与水资源利用技术",
                "name_en": "Water pollution control and water resource utilization",
                "keywords": (
                    "污水处理",
                    "工业废水",
                    "中水回用",
                    "膜分离",
                    "富营养化",
                    "流域治理",
                    "饮用水安全",
                    "节水",
                    "海水淡化",
                    "黑臭水体",
                ),
            },
            {
                "code": "0702",
                "name": "大气污染控制技术",
                "name_en": "Air pollution control",
                "keywords": (
                    "脱硫",
                    "脱硝",
                    "除尘",
                    "VOCs治理",
                    "机动车尾气",
                    "烟气治理",
                    "超低排放",
                    "废气处理",
                    "PM2.5",
                ),
            },
            {
                "code": "0703",
                "name": "固体废弃物处置与综合利用技术",
                "name_en": "Solid waste disposal and comprehensive utilization",
                "keywords": (
                    "固体废弃物",
                    "危险废物",
                    "工业固废",
                    "生活垃圾",
                    "垃圾焚烧",
                    "建筑垃圾",
                    "污泥处置",
                    "餐厨垃圾",
                    "资源化利用",
                    "再生资源",
                ),
            },
            {
                "code": "0704",
                "name": "物理性污染防治技术",
                "name_en": "Physical pollution prevention and control",
                "keywords": (
                    "噪声控制",
                    "减振降噪",
                    "振动污染",
                    "电磁辐射",
                    "辐射防护",
                    "光污染",
                    "隔声",
                    "吸声材料",
                ),
            },
            {
                "code": "0705",
                "name": "环境监测及环境事故应急处理技术",
                "name_en": "Environmental monitoring and emergency response",
                "keywords": (
                    "环境监测",
                    "在线监测",
                    "水质监测",
                    "大气监测",
                    "应急监测",
                    "环境预警",
                    "生态监测",
                    "污染溯源",
                    "遥感监测",
                ),
            },
            {
                "code": "0706",
                "name": "生态环境建设与保护技术",
                "name_en": "Ecological construction and protection",
                "keywords": (
                    "生态修复",
                    "土壤修复",
                    "重金属污染修复",
                    "湿地保护",
                    "水土保持",
                    "矿山生态修复",
                    "石漠化治理",
                    "生物多样性保护",
                ),
            },
            {
                "code": "0707",
                "name": "清洁生产技术",
                "name_en": "Cleaner production",
                "keywords": (
                    "清洁生产",
                    "节水减排",
                    "循环经济",
                    "绿色制造",
                    "源头减量",
                    "环保装备",
                    "废物减量化",
                    "绿色工艺",
                ),
            },
            {
                "code": "0708",
                "name": "资源勘查、高效开采与综合利用技术",
                "name_en": "Resource exploration, efficient mining and comprehensive utilization",
                "keywords": (
                    "矿产勘查",
                    "地球物理勘探",
                    "采矿",
                    "选矿",
                    "尾矿综合利用",
                    "伴生矿",
                    "低品位矿",
                    "磷矿",
                    "绿色矿山",
                    "放射性资源",
                ),
            },
        ),
    },
    {
        "code": "08",
        "name": "先进制造与自动化",
        "name_en": "Advanced manufacturing and automation",
        "fields": (
            {
                "code": "0801",
                "name": "工业生产过程控制系统",
                "name_en": "Industrial process control systems",
                "keywords": (
                    "DCS",
                    "PLC",
                    "现场总线",
                    "工业以太网",
                    "工业控制计算机",
                    "MES",
                    "SCADA",
                    "过程控制",
                    "工业互联网",
                    "嵌入式系统",
                ),
            },
            {
                "code": "0802",
                "name": "安全生产技术",
                "name_en": "Work safety technology",
                "keywords": (
                    "安全生产",
                    "矿山安全",
                    "危险化学品",
                    "瓦斯监测",
                    "事故预警",
                    "应急救援",
                    "安全监控",
                    "消防",
                    "防爆",
                ),
            },
            {
                "code": "0803",
                "name": "高性能、智能化仪器仪表",
                "name_en": "High-performance intelligent instruments and meters",
                "keywords": (
                    "传感器",
                    "智能仪表",
                    "科学分析仪器",
                    "检测仪器",
                    "测控仪器",
                    "微机电系统",
                    "MEMS",
                    "光谱仪",
                    "流量计",
                    "激光测量",
                ),
            },
            {
                "code": "0804",
                "name": "先进制造工艺与装备",
                "name_en": "Advanced manufacturing processes and equipment",
                "keywords": (
                    "数控机床",
                    "工业机器人",
                    "增材制造",
                    "3D打印",
                    "激光加工",
                    "特种加工",
                    "再制造",
                    "智能装备",
                    "精密加工",
                    "智能制造",
                ),
            },
            {
                "code": "0805",
                "name": "新型机械",
                "name_en": "New machinery",
                "keywords": (
                    "机械基础件",
                    "轴承",
                    "齿轮",
                    "液压",
                    "密封件",
                    "通用机械",
                    "专用设备",
                    "工程机械",
                    "纺织机械",
                    "压缩机",
                ),
            },
            {
                "code": "0806",
                "name": "电力系统与设备",
                "name_en": "Power systems and equipment",
                "keywords": (
                    "发电设备",
                    "输电",
                    "特高压",
                    "配电",
                    "变电站",
                    "智能电网",
                    "电力电子",
                    "储能系统",
                    "继电保护",
                    "电力自动化",
                ),
            },
            {
                "code": "0807",
                "name": "汽车及轨道车辆相关技术",
                "name_en": "Automotive and rail vehicle technology",
                "keywords": (
                    "汽车零部件",
                    "发动机",
                    "新能源汽车",
                    "电动汽车",
                    "智能网联汽车",
                    "自动驾驶",
                    "变速器",
                    "轻量化",
                    "商用车",
                    "轨道车辆",
                ),
            },
            {
                "code": "0808",
                "name": "高技术船舶与海洋工程装备设计制造技术",
                "name_en": "High-tech ships and marine engineering equipment",
                "keywords": (
                    "船舶设计",
                    "船舶制造",
                    "高技术船舶",
                    "海洋工程装备",
                    "海洋平台",
                    "船用设备",
                    "水下机器人",
                    "深海装备",
                ),
            },
            {
                "code": "0809",
                "name": "传统文化产业改造技术",
                "name_en": "Upgrading technology for traditional cultural industries",
                "keywords": (
                    "乐器制造",
                    "印刷技术",
                    "数字印刷",
                    "绿色印刷",
                    "印刷装备",
                    "工艺美术",
                ),
            },
        ),
    },
)

# ---------------------------------------------------------------------------
# 4. Need categories: the five kinds of enterprise needs in 鄂科技通〔2020〕67号,
# in the notice's order; descriptions are the notice's sentences verbatim.
# ---------------------------------------------------------------------------
NEED_CATEGORIES: tuple[dict[str, str], ...] = (
    {
        "code": "product_innovation",
        "name": "产品创新与技术攻关",
        "name_en": "Product innovation and key technology breakthroughs",
        "description": (
            "围绕企业生产和新产品研发中的技术核心问题，制定针对性技术解决方案，"
            "开展关键核心技术攻关，研发具有科技含量的创新产品，提升企业产品竞争力"
        ),
    },
    {
        "code": "common_technology",
        "name": "行业关键共性技术突破",
        "name_en": "Breakthroughs in key generic technologies of an industry",
        "description": (
            "围绕湖北省重点产业、战略性新兴产业等行业需求，"
            "重点解决行业发展面临的关键技术、共性技术问题"
        ),
    },
    {
        "code": "transformation_upgrade",
        "name": "技术改造与转型升级",
        "name_en": "Technical renovation and transformation upgrading",
        "description": (
            "围绕湖北省传统产业转型升级需要，重点开展各类传统产业的技术改造，"
            "以及新技术、新设备、新材料等方面的研发"
        ),
    },
    {
        "code": "joint_rd_platform",
        "name": "共建研发平台",
        "name_en": "Jointly built R&D platforms",
        "description": (
            "帮助企业与高等学校、科研院所共建工程技术研究中心、企业技术中心、"
            "工程中心、实验室等研发平台"
        ),
    },
    {
        "code": "innovation_management_design",
        "name": "高端创新管理与工业设计",
        "name_en": "High-end innovation management and industrial design",
        "description": (
            "重点帮助企业开展产品设计、环境设计、机械设计、电路设计等高端工业设计，"
            "及企业高端创新管理咨询"
        ),
    },
)

# ---------------------------------------------------------------------------
# 5. Institution types: the four kinds of units whose researchers may take part
# (鄂科技通〔2020〕67号), plus a catch-all ineligible type.
# ---------------------------------------------------------------------------
INSTITUTION_TYPES: tuple[dict[str, Any], ...] = (
    {
        "code": "university",
        "name": "高等学校",
        "name_en": "Higher education institution",
        "eligible": True,
    },
    {
        "code": "public_research_institute",
        "name": "国家举办的科研事业单位",
        "name_en": "State-run public research institute",
        "eligible": True,
    },
    {
        "code": "provincial_lab",
        "name": "省级以上实验室",
        "name_en": "Laboratory at provincial level or above",
        "eligible": True,
    },
    {
        "code": "new_rd_institution",
        "name": "省级科技管理部门认定的新型研发机构",
        "name_en": "New-type R&D institution recognized by the provincial science authority",
        "eligible": True,
    },
    {
        "code": "other",
        "name": "其他单位",
        "name_en": "Other organization",
        "eligible": False,
    },
)

# ---------------------------------------------------------------------------
# 6. The 2020 round (鄂科技通〔2020〕67号, §四 schedule):
#   needs collected by end of Dec 2020; contracts signed by end of Feb 2021;
#   execution and self-acceptance by end of Nov 2021; performance evaluation
#   by end of Dec 2021. Amounts are in yuan.
# ---------------------------------------------------------------------------
ROUND_2020: dict[str, Any] = {
    "code": "HB-2020",
    "name": "2020年科技人员服务企业专项行动·湖北专项",
    "name_en": "2020 Hubei Special Action: Researchers Serving Enterprises",
    "document_number": "鄂科技通〔2020〕67号",
    "province": "湖北省",
    "needs_filing_start": "2020-06-01",
    "needs_filing_end": "2020-12-31",
    "matching_end": "2021-02-28",
    "execution_end": "2021-11-30",
    "evaluation_end": "2021-12-31",
    "min_need_amount": 100000,
    "funding_cap": 100000,
    "project_quota": 300,
    "projects_per_enterprise": 1,
}
