"""Home page, login and logout."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.access.auth import COOKIE
from app.web.auth import PageRoute, safe_next
from app.web.common import render

router = APIRouter(route_class=PageRoute)

SECTIONS = [
    ("/proposal", "方案预审", "出让前按规则集逐条预审宗地控制指标，生成可打印签字的预审结论。"),
    ("/rulesets", "规则集", "各地控制指标规则集的版本、生效日期、条文依据与版本差异；管理员上传新版本。"),
    ("/contracts", "合同履约", "出让合同的履约时间线、税收年度、违约金与闲置土地状态，以及条款检查。"),
    ("/parks", "园区", "园区宗地台账、年度用地评价与亩均效益评价，可下载 Excel。"),
]


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "home.html", {"sections": SECTIONS})


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str = "/", invalid: bool = False) -> HTMLResponse:
    return render(request, "login.html", {"next": safe_next(next), "invalid": invalid})


@router.post("/login")
def login(request: Request, key: str = Form("", max_length=512),
          next: str = Form("/", max_length=2000)) -> RedirectResponse:
    resp = RedirectResponse(safe_next(next), status_code=303)
    # The key is only a credential for later requests: the role check happens there.
    resp.set_cookie(COOKIE, key.strip(), httponly=True, samesite="strict", path="/",
                    secure=request.url.scheme == "https")
    return resp


@router.get("/logout", response_class=HTMLResponse)
def logout_form(request: Request) -> HTMLResponse:
    """A link cannot log anyone out (another site could embed it): this page's form does."""
    return render(request, "logout.html")


@router.post("/logout")
def logout() -> RedirectResponse:
    resp = RedirectResponse("/", status_code=303)
    resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return resp
