"""What the 合同履约 pages share (``pages_contracts``, ``pages_contract_check``): the roles each
page needs, the section, and the Chinese labels of the codes the API answers with."""

from __future__ import annotations

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from app.access import auth
from app.access.auth import require
from app.checks.visibility import WITHHELD_STATUS, WITHHELD_ZH
from app.lifecycle.penalties import AMOUNT_LABEL
from app.web.common import render

# The API's capabilities (app.access.auth), route by route as the API grants them: the list, a contract and
# a stored check are what GET /v1/contracts/… and /v1/decisions/… show (READ); the clause-check form
# only serves POST /v1/checks/contract (WRITE).
READ = Depends(require(*auth.READ))
WRITE = Depends(require(*auth.WRITE))
PAGE_SIZE = 50
SECTION = {"section": "contracts"}

# ---------------------------------------------------------------- labels (codes → Chinese)

EVENT_LABELS = {"delivered": "交付土地", "extension_approved": "批准延期开工", "started": "开工", "progress": "建设进度",
                "construction_suspended": "停建（竣工验收前停止建设）", "construction_resumed": "复工",
                "production_stopped": "停产（竣工验收后停止生产）", "production_resumed": "复产",
                "government_delay": "政府原因延误", "completion_accepted": "竣工验收", "payment": "支付出让价款"}
GOV_CAUSES = {"late_delivery": "迟延交地", "plan_change": "规划调整", "policy_change": "政策调整", "petition": "信访",
              "military_or_heritage": "军事管制或文物保护", "other_government_act": "其他政府行为",
              "force_majeure": "不可抗力"}
EVENT_FIELDS = {"due_on": "应付日", "amount": "金额", "demanded": "已催告", "new_start_by": "新开工期限",
                "document": "批准文件", "cause": "原因", "developed_area": "已开发面积", "area_to_develop": "应开发面积",
                "invested": "已投资", "total_investment": "总投资", "land_price_included": "投资含地价",
                "suspended_since": "停建/停产自（旧字段：竣工验收前为停建，之后为停产）", "partial": "半停产",
                "fixed_asset_investment": "固定资产投资", "total_floor_area": "总建筑面积",
                "building_footprint": "建筑物基底面积", "structure_footprint": "构筑物基底面积", "yard_area": "露天堆场面积",
                "admin_land_area": "行政办公及生活服务设施用地", "admin_floor_area": "行政办公及生活服务设施建筑面积",
                "green_area": "绿地面积", "floors": "楼层", "note": "备注"}
PERF_STATUS = {"pass": "符合", "fail": "违约", "insufficient_data": "数据不足", "not_applicable": "不适用",
               WITHHELD_STATUS: WITHHELD_ZH}
PERF_VERDICT = {"pass": "履约正常", "fail": "存在违约", "incomplete": "数据不全，部分项目无法判定"}
# kind → (penalty item, name, the contract-model field whose clause sets the rate or the rule)
KINDS = {
    "late_payment": ("F1", "逾期付款", "penalties.late_payment_permille"),
    "late_start": ("F2", "延期开工", "penalties.late_start_permille"),
    "late_completion": ("F3", "延期竣工", "penalties.late_completion_permille"),
    "investment": ("F4", "投资不足", "penalties.shortfall_aggregate"),
    "plot_ratio": ("F5/F6", "容积率", "penalties.shortfall_aggregate"),
    "building_coefficient": ("F5/F6", "建筑系数", "penalties.shortfall_aggregate"),
    "green_ratio": ("F7", "绿地率", "penalties.over_limit_permille"),
    "admin_land_share": ("F7", "行政办公及生活服务设施用地比例", "penalties.over_limit_permille"),
    "admin_floor_share": ("F7", "行政办公及生活服务设施建筑面积比例", "penalties.over_limit_permille"),
    "late_delivery": ("F8", "出让人延期交地", "penalties.late_delivery_permille"),
    "tax_per_mu": ("", "亩均税收考核", None),
    "idle_land": ("53号令", "闲置土地", None),
}
IDLE_STATES = {"not_idle": "未构成闲置", "idle_1y": "闲置满一年（企业原因）", "idle_2y": "闲置满两年（企业原因）",
               "stalled": "已动工但停建闲置", "government_caused": "政府原因或不可抗力造成的延迟"}
TAX_OPTIONS = {"pay_difference": "补缴差额", "proportional": "按比例", "none": "不处理"}
CHECK_STATUS = {"pass": "符合", "missing": "缺失", "weaker": "弱于规则", "non_model": "非示范文本", "invalid": "无效",
                "warning": "提示"}
CHECK_VERDICT = {"pass": "通过：条款齐全，不弱于签订日有效的规则", "fail": "不通过：存在缺失、弱于规则或无效的条款"}
# The amount basis as the API states it (Chinese with an English gloss), in Chinese only.
AMOUNT_LABELS = {AMOUNT_LABEL: "合同约定金额（法院可依《民法典》第 585 条调整 ❓）"}


def not_found(request: Request, detail: str) -> HTMLResponse:
    return render(request, "error.html", {**SECTION, "title": "未找到", "detail": detail}, status_code=404)
