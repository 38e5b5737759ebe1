"""The 31 provincial-level units: full name, the short form texts use, and the portal host."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Province:
    name: str
    short: str
    host: str  # the provincial portal's registrable domain part


PROVINCES: tuple[Province, ...] = (
    Province("北京市", "北京", "beijing.gov.cn"),
    Province("天津市", "天津", "tj.gov.cn"),
    Province("河北省", "河北", "hebei.gov.cn"),
    Province("山西省", "山西", "shanxi.gov.cn"),
    Province("内蒙古自治区", "内蒙古", "nmg.gov.cn"),
    Province("辽宁省", "辽宁", "ln.gov.cn"),
    Province("吉林省", "吉林", "jl.gov.cn"),
    Province("黑龙江省", "黑龙江", "hlj.gov.cn"),
    Province("上海市", "上海", "shanghai.gov.cn"),
    Province("江苏省", "江苏", "jiangsu.gov.cn"),
    Province("浙江省", "浙江", "zj.gov.cn"),
    Province("安徽省", "安徽", "ah.gov.cn"),
    Province("福建省", "福建", "fujian.gov.cn"),
    Province("江西省", "江西", "jiangxi.gov.cn"),
    Province("山东省", "山东", "shandong.gov.cn"),
    Province("河南省", "河南", "henan.gov.cn"),
    Province("湖北省", "湖北", "hubei.gov.cn"),
    Province("湖南省", "湖南", "hunan.gov.cn"),
    Province("广东省", "广东", "gd.gov.cn"),
    Province("广西壮族自治区", "广西", "gxzf.gov.cn"),
    Province("海南省", "海南", "hainan.gov.cn"),
    Province("重庆市", "重庆", "cq.gov.cn"),
    Province("四川省", "四川", "sc.gov.cn"),
    Province("贵州省", "贵州", "guizhou.gov.cn"),
    Province("云南省", "云南", "yn.gov.cn"),
    Province("西藏自治区", "西藏", "xizang.gov.cn"),
    Province("陕西省", "陕西", "shaanxi.gov.cn"),
    Province("甘肃省", "甘肃", "gansu.gov.cn"),
    Province("青海省", "青海", "qinghai.gov.cn"),
    Province("宁夏回族自治区", "宁夏", "nx.gov.cn"),
    Province("新疆维吾尔自治区", "新疆", "xinjiang.gov.cn"),
)
