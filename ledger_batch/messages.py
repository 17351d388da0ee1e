"""The user-facing message catalogue: every problem and error in Chinese and English.

Each entry is ``code -> {lang: (what is wrong, how to fix it)}``; ``{name}`` fields are
filled from the problem's parameters. Chinese is the default language.
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["zh", "en"]

MESSAGES: dict[str, dict[str, tuple[str, str]]] = {
    # --- files -------------------------------------------------------------------
    "file_rejected": {
        "zh": ("文件 {file} 有 {count} 处错误，未入库", "按错误报告逐条改正后重新放入收件箱"),
        "en": (
            "{file} has {count} problem(s) and was not stored",
            "fix each problem in the error report and drop the file into the inbox again",
        ),
    },
    "not_a_spreadsheet": {
        "zh": ("文件不是电子表格（{detected}）", "请另存为 .xlsx、.xls、.ods 或 .csv 后再放入"),
        "en": (
            "the file is not a spreadsheet ({detected})",
            "save it as .xlsx, .xls, .ods or .csv and drop it again",
        ),
    },
    "encrypted": {
        "zh": (
            "文件设有密码保护，无法读取",
            "在 Excel 中去掉密码（文件→信息→保护工作簿）后重新保存",
        ),
        "en": (
            "the workbook is password-protected",
            "remove the password in Excel (File → Info → Protect Workbook) and save again",
        ),
    },
    "corrupt": {
        "zh": ("文件已损坏或不完整：{detail}", "用 Excel 或 WPS 打开并重新保存，或重新复制原文件"),
        "en": (
            "the file is damaged or incomplete: {detail}",
            "open it in Excel or WPS and save again, or copy the original again",
        ),
    },
    "too_large": {
        "zh": ("文件解压后过大（{detail}）", "台账不应这么大；请检查是否误存了大量空白或无关数据"),
        "en": (
            "the file is too large when unpacked ({detail})",
            "a ledger should not be this large; remove stray data or empty formatting",
        ),
    },
    "sheet_too_large": {
        "zh": (
            "工作表范围过大（{detail}）",
            "删除远处的无用单元格（如 XFD1048576）后重新保存；数据确实这么多时请拆分文件",
        ),
        "en": (
            "the sheet's used range is too large ({detail})",
            "delete stray far-away cells (e.g. XFD1048576) and save again; "
            "if the data really is this large, split the file",
        ),
    },
    "xml_entities": {
        "zh": (
            "文件内含 XML 实体声明（{detail}）；Excel、WPS 和 LibreOffice 不会写出这种内容，"
            "可能是被构造来攻击读取程序的文件",
            "不要使用此文件；向报送人索要原始台账，或在 Excel/WPS 中重新录入后保存",
        ),
        "en": (
            "the file declares XML entities ({detail}); Excel, WPS and LibreOffice never write "
            "these, so it may have been crafted to attack the programs that read it",
            "do not use this file; ask the sender for the original ledger, or re-enter it "
            "in Excel/WPS and save",
        ),
    },
    "too_many_rows": {
        "zh": (
            "数据行数 {rows} 超过上限 {limit}",
            "拆分文件，或在 ledger-batch.toml 中调高 max_rows_per_sheet",
        ),
        "en": (
            "{rows} data rows exceed the limit of {limit}",
            "split the file, or raise max_rows_per_sheet in ledger-batch.toml",
        ),
    },
    "no_period_in_name": {
        "zh": ("文件名中没有月份", "文件名应含月份，例如 2025-03.xlsx 或 2025年3月联络员台账.xlsx"),
        "en": (
            "the file name carries no month",
            "name the file with its month, e.g. 2025-03.xlsx or 2025年3月联络员台账.xlsx",
        ),
    },
    "csv_sheet_unknown": {
        "zh": ("CSV 文件名未写明是哪张表", "在文件名中写明表名，例如 2025-03 信息报送.csv"),
        "en": (
            "the CSV file name does not say which sheet it holds",
            "name the sheet in the file name, e.g. 2025-03 信息报送.csv",
        ),
    },
    "csv_encoding": {
        "zh": ("CSV 编码无法识别", "请以 UTF-8 或 GBK 编码另存"),
        "en": ("the CSV's encoding is not UTF-8 or GBK", "save it as UTF-8 or GBK"),
    },
    "no_ledger_sheet": {
        "zh": (
            "工作簿中没有可识别的台账表",
            "工作表名应为：信息报送、闭环跟踪、会议考勤、违规通报、质量加减分、人员名册",
        ),
        "en": (
            "the workbook has no recognised ledger sheet",
            "name the sheets 信息报送, 闭环跟踪, 会议考勤, 违规通报, 质量加减分 or 人员名册",
        ),
    },
    "missing_submissions_sheet": {
        "zh": ("月度台账缺少“信息报送”表", "添加“信息报送”表（本月无人报送时也保留表头）"),
        "en": (
            "the monthly workbook has no 信息报送 (submissions) sheet",
            "add the 信息报送 sheet (keep its header row even if nobody reported)",
        ),
    },
    "duplicate_sheet": {
        "zh": ("工作簿中有两张“{ledger}”表：{sheets}", "合并为一张表"),
        "en": ("two sheets are both {ledger}: {sheets}", "merge them into one sheet"),
    },
    "sheet_ignored": {
        "zh": ("工作表“{sheet}”不是台账表，已忽略", "如需导入，请按台账表名重命名"),
        "en": (
            "sheet {sheet} is not a ledger sheet and was ignored",
            "rename it to a ledger sheet name if it should be read",
        ),
    },
    "column_ignored": {
        "zh": ("列“{header}”不是台账字段，已忽略", "如需导入，请改为标准表头"),
        "en": (
            "column {header} is not a ledger field and was ignored",
            "rename it to a standard header if it should be read",
        ),
    },
    "lock_file": {
        "zh": ("这是 Excel/WPS 的临时锁文件，已忽略", "无需处理；关闭表格后锁文件会自动消失"),
        "en": (
            "this is an Excel/LibreOffice lock file and was ignored",
            "nothing to do; it disappears when the workbook is closed",
        ),
    },
    "system_file": {
        "zh": ("这是操作系统生成的文件（如 Thumbs.db），已忽略", "无需处理"),
        "en": (
            "this is a file the operating system made (e.g. Thumbs.db) and was ignored",
            "nothing to do",
        ),
    },
    "still_copying": {
        "zh": ("文件仍在写入（大小或修改时间在变化），本次跳过", "待复制完成后再次运行 ingest"),
        "en": (
            "the file is still being written (its size or time is changing); skipped",
            "run ingest again once copying has finished",
        ),
    },
    "duplicate_file": {
        "zh": ("与已入库的 {period} 版本 {version} 内容完全相同，未重复入库", "无需处理"),
        "en": (
            "identical to stored version {version} of {period}; not stored again",
            "nothing to do",
        ),
    },
    # --- headers -----------------------------------------------------------------
    "header_not_found": {
        "zh": ("找不到表头行（缺少列：{missing}）", "在数据上方放一行标准表头：{expected}"),
        "en": (
            "no header row found (missing columns: {missing})",
            "put one row of standard headers above the data: {expected}",
        ),
    },
    "missing_column": {
        "zh": ("缺少必填列“{header}”", "在表头行添加“{header}”列"),
        "en": ("required column {header} is missing", "add the column {header} to the header row"),
    },
    "duplicate_column": {
        "zh": ("“{header}”列出现了两次（{columns}）", "删除或改名其中一列"),
        "en": ("column {header} appears twice ({columns})", "delete or rename one of them"),
    },
    "second_table": {
        "zh": (
            "第 {row} 行重复了第 {header_row} 行的表头：表下方还有第二张表，从此行起未读取",
            "一张工作表只放一张台账表；把第二张表移到它所属的表或文件中，或删除",
        ),
        "en": (
            "row {row} repeats the header of row {header_row}: a second table under the data; "
            "nothing from this row on was read",
            "keep one table per sheet: move the second table to its own sheet or file, "
            "or delete it",
        ),
    },
    "totals_row": {
        "zh": ("这是合计行（{label}），不是一条记录，未读取", "无需处理；合计由 ledger-batch 计算"),
        "en": (
            "a totals row ({label}), not a record; it was not read",
            "nothing to do; ledger-batch computes totals itself",
        ),
    },
    "no_items": {
        "zh": (
            "“信息报送”表只有表头，没有任何信息：本月在任的联络员都按“当月未报送”扣分",
            "如确实无人报送可不处理；否则填写本月信息后重新放入",
        ),
        "en": (
            "the 信息报送 sheet has its header and no items: every liaison in service this month "
            "counts as not having reported",
            "nothing to do if really nobody reported; otherwise fill in the month's items and "
            "drop the file again",
        ),
    },
    "hidden_rows": {
        "zh": (
            "{count} 行在 Excel 中被隐藏（行 {rows}），但隐藏不等于删除：已照常读入并计分",
            "如这些行不应计入，请删除这些行后重新放入",
        ),
        "en": (
            "{count} row(s) are hidden in Excel (rows {rows}); hiding is not deleting: they were "
            "read and count",
            "if they should not count, delete those rows and drop the file again",
        ),
    },
    "merged_cells": {
        "zh": (
            "合并单元格 {range} 跨越数据行：只有左上角单元格有值，其余各行读作空白",
            "取消合并，并在每一行填写各自的值",
        ),
        "en": (
            "merged cells {range} span data rows: only the top-left cell holds the value, the "
            "other rows read as blank",
            "unmerge the cells and fill in the value on every row",
        ),
    },
    "excel_error": {
        "zh": (
            "单元格显示的是 Excel 错误值 {value}，不是数据",
            "改正公式（或它引用的单元格），或直接填写数值，保存后重新放入",
        ),
        "en": (
            "the cell shows the Excel error {value}, not a value",
            "correct the formula (or the cells it uses), or type the value, and save again",
        ),
    },
    "formula_without_value": {
        "zh": (
            "公式没有保存计算结果（文件由程序生成，未经 Excel 计算），无法知道它的值",
            "用 Excel、WPS 或 LibreOffice 打开并保存一次（会计算公式），或直接填写数值",
        ),
        "en": (
            "a formula whose calculated value is not in the file (written by a program that "
            "does not calculate), so its value is unknown",
            "open and save the file once in Excel, WPS or LibreOffice (which calculates it), or "
            "type the value instead",
        ),
    },
    # --- cells -------------------------------------------------------------------
    "required_blank": {
        "zh": ("必填项“{header}”为空", "填写“{header}”"),
        "en": ("required field {header} is blank", "fill in {header}"),
    },
    "bad_date": {
        "zh": ("无法识别的日期", "写成 2025-03-05、2025/3/5、2025年3月5日 或 Excel 日期格式"),
        "en": (
            "not a date that can be read",
            "write it as 2025-03-05, 2025/3/5, 2025年3月5日 or an Excel date",
        ),
    },
    "bad_number": {
        "zh": ("不是数字", "填写数字，例如 2、-1 或 0.5"),
        "en": ("not a number", "write a number such as 2, -1 or 0.5"),
    },
    "bad_choice": {
        "zh": ("“{header}”的值不在允许范围内", "可选值：{allowed}"),
        "en": ("not an allowed value for {header}", "allowed values: {allowed}"),
    },
    "date_outside_month": {
        "zh": ("日期不在本月（{period}）", "改正日期，或把该行放到对应月份的台账中"),
        "en": (
            "the date is not in this file's month ({period})",
            "correct the date, or move the row to that month's ledger",
        ),
    },
    "date_after_month": {
        "zh": ("日期晚于本月（{period}）", "改正日期"),
        "en": ("the date is after this file's month ({period})", "correct the date"),
    },
    "period_mismatch": {
        "zh": (
            "文件名的月份 {name_period} 与表内日期（多为 {data_period}）不一致",
            "改正文件名或表内日期",
        ),
        "en": (
            "the file name says {name_period} but the dates inside are mostly {data_period}",
            "correct the file name or the dates",
        ),
    },
    "unknown_person": {
        "zh": ("名册中没有此人（{who}）", "检查姓名/工号，或先导入包含此人的人员名册"),
        "en": (
            "nobody on the roster matches {who}",
            "check the name/工号, or ingest a roster that lists this person first",
        ),
    },
    "ambiguous_name": {
        "zh": ("名册中有 {count} 人同名“{name}”", "填写工号以区分"),
        "en": ("{count} rostered liaisons are named {name}", "fill in 工号 to tell them apart"),
    },
    "name_id_mismatch": {
        "zh": ("工号 {employee_id} 在名册中是“{roster_name}”，不是“{name}”", "改正姓名或工号"),
        "en": (
            "工号 {employee_id} belongs to {roster_name}, not {name}",
            "correct the name or 工号",
        ),
    },
    "not_in_service": {
        "zh": (
            "{name} 在 {date} 不在联络员任期内（{term}）",
            "改正日期，或更新人员名册的聘任/解聘日期",
        ),
        "en": (
            "{name} was not a liaison on {date} ({term})",
            "correct the date, or the roster's appointment/dismissal dates",
        ),
    },
    "no_roster": {
        "zh": (
            "还没有 {period} 适用的人员名册",
            "先导入人员名册（可单独一个文件，或放在本月台账的“人员名册”表中）",
        ),
        "en": (
            "no roster applies to {period} yet",
            "ingest a roster first (its own file, or a 人员名册 sheet in this workbook)",
        ),
    },
    "duplicate_item_id": {
        "zh": ("编号 {item_id} 重复（另见第 {other_row} 行）", "每条信息使用唯一编号"),
        "en": (
            "item number {item_id} is used twice (see also row {other_row})",
            "give every item its own number",
        ),
    },
    "item_id_in_other_month": {
        "zh": ("编号 {item_id} 已在 {other_period} 使用", "换一个编号，或留空由系统自动编号"),
        "en": (
            "item number {item_id} is already used in {other_period}",
            "use another number, or leave it blank to have one assigned",
        ),
    },
    "unknown_item_id": {
        "zh": (
            "编号 {item_id} 不存在于已入库的信息中",
            "核对编号；被跟踪的信息须先在其月份台账中入库",
        ),
        "en": (
            "item number {item_id} is not among the stored items",
            "check the number; the item's own month must be ingested first",
        ),
    },
    "item_of_other_person": {
        "zh": ("编号 {item_id} 是 {owner} 报送的，不是 {name}", "核对编号或姓名"),
        "en": (
            "item {item_id} was reported by {owner}, not {name}",
            "check the number or the name",
        ),
    },
    "tracking_before_item": {
        "zh": ("跟踪日期早于该信息的报送日期 {reported}", "改正日期"),
        "en": ("the update is dated before the item was reported ({reported})", "correct the date"),
    },
    "inspection_without_stage": {
        "zh": ("有复查结果但办理状态不是“督查验收”", "复查结果只在督查验收阶段填写"),
        "en": (
            "an inspection result is given but the stage is not 督查验收",
            "give an inspection result only at the 督查验收 stage",
        ),
    },
    "possible_duplicate_item": {
        "zh": ("可能是重复信息（与 {other} 内容相同）", "确认是否重复报送；如重复请删除一行"),
        "en": (
            "possibly a duplicate item (same content as {other})",
            "check whether it was reported twice; delete one row if so",
        ),
    },
    "untrue_notice_on_true_item": {
        "zh": (
            "信息不实通报指向的编号 {item_id} 在信息报送表中标为“{truthful}”，按不实计",
            "核对是否属实一栏",
        ),
        "en": (
            "a 信息不实 notice names item {item_id}, which is marked {truthful}; counted as untrue",
            "check the 是否属实 column",
        ),
    },
    "more_problems": {
        "zh": (
            "同样的问题还有 {count} 处（{what_zh}；行 {rows}），未逐条列出",
            "先改正上面列出的几处，再用同样方法检查这些行",
        ),
        "en": (
            "{count} more of the same ({what_en}; rows {rows}), not listed one by one",
            "fix the ones listed above, then check these rows the same way",
        ),
    },
    "control_character": {
        "zh": ("含有看不见的控制字符（{codes}）", "重新输入此单元格（不要从其他系统复制粘贴）"),
        "en": (
            "contains an invisible control character ({codes})",
            "type the cell again (do not paste it from another system)",
        ),
    },
    "text_too_long": {
        "zh": ("文字超过 {limit} 个字符", "缩短内容"),
        "en": ("the text is longer than {limit} characters", "shorten it"),
    },
    # --- roster warnings -------------------------------------------------------------
    "duplicate_employee_id": {
        "zh": ("工号 {employee_id} 在名册中出现两次（另见第 {other_row} 行）", "每人一行"),
        "en": (
            "工号 {employee_id} appears twice in the roster (see also row {other_row})",
            "one row per person",
        ),
    },
    "seat_count": {
        "zh": ("{unit} 应有 {expected} 名联络员，现有 {actual} 名", "按席位规定调整名册"),
        "en": (
            "{unit} should have {expected} liaison(s) and has {actual}",
            "adjust the roster to the seat rules",
        ),
    },
    "seat_pair": {
        "zh": ("{unit} 的两名联络员应为一名班组长、一名普通职工", "调整岗位"),
        "en": (
            "{unit}'s pair should be one team leader (班组长) and one worker (职工)",
            "adjust the positions",
        ),
    },
    "seat_female": {
        "zh": ("{unit} 的联络员中应有一名女工", "调整人选"),
        "en": ("{unit} should include one female worker (女工)", "adjust the nominees"),
    },
    "unknown_unit": {
        "zh": (
            "单位“{unit}”不在席位配置中",
            "核对单位名称，或在 ledger-batch.toml 的 seats 中添加",
        ),
        "en": (
            "unit {unit} is not in the seat configuration",
            "check the unit name, or add it to seats in ledger-batch.toml",
        ),
    },
    "seat_total": {
        "zh": ("名册在任联络员共 {actual} 名（席位配置合计 {expected} 名）", ""),
        "en": ("{actual} liaisons in service (the seat configuration totals {expected})", ""),
    },
    "dismissed_departure": {
        "zh": (
            "{name} 于 {date} 解聘（{reason}），按解聘处理：取消津贴，单位扣分，负责人罚款",
            "如属正常调动，请在解聘原因中写明（如“工作调动”）",
        ),
        "en": (
            "{name} dismissed on {date} ({reason}): allowance cancelled, unit penalised, "
            "head fined",
            "if this was an ordinary transfer, say so in 解聘原因 (e.g. 工作调动)",
        ),
    },
    "dismissal_before_appointment": {
        "zh": ("解聘日期不晚于聘任日期", "改正日期"),
        "en": ("the dismissal date is not after the appointment date", "correct the dates"),
    },
    "departure_without_reason": {
        "zh": (
            "{name} 有解聘日期但没有解聘原因，按正常离任处理（不扣分、不罚款）",
            "填写解聘原因；属解聘（敷衍塞责、不负责任、散布不实信息）时写明",
        ),
        "en": (
            "{name} has a dismissal date but no reason; treated as an ordinary departure",
            "fill in 解聘原因, naming a dismissal (perfunctory, irresponsible, false information)",
        ),
    },
    # --- year and config -------------------------------------------------------------
    "missing_months": {
        "zh": (
            "{year} 年度缺少以下月份的台账：{months}",
            "补齐台账后再运行，或加 --allow-missing-months 明确继续",
        ),
        "en": (
            "assessment year {year} has no ledger for: {months}",
            "ingest those months, or pass --allow-missing-months to go on anyway",
        ),
    },
    "no_months": {
        "zh": ("{period} 没有已入库的台账", "先用 ingest 导入该期台账"),
        "en": ("nothing is stored for {period}", "ingest that period's ledgers first"),
    },
    "bad_period": {
        "zh": ("无法识别的期间“{value}”", "写成 {expected}"),
        "en": ("cannot read the period {value}", "write it as {expected}"),
    },
    "config_invalid": {
        "zh": ("规则文件 {path} 有误：{key}：{detail}", "按注释改正该项，或删除该项以使用默认值"),
        "en": (
            "the rules file {path} is invalid at {key}: {detail}",
            "correct that key as its comment says, or delete it to use the default",
        ),
    },
    "config_unreadable": {
        "zh": ("规则文件 {path} 不是有效的 TOML：{detail}", "改正语法错误"),
        "en": ("the rules file {path} is not valid TOML: {detail}", "correct the syntax"),
    },
    "workspace_busy": {
        "zh": (
            "工作区正被另一个任务使用：{holder}（已等待 {seconds} 秒）",
            "等它结束后再运行；如确认该任务已不存在，可删除工作区中的 .ledger-batch.lock",
        ),
        "en": (
            "the workspace is in use by another run: {holder} (waited {seconds} s)",
            "run again when it has finished; if that run is gone, delete .ledger-batch.lock",
        ),
    },
    "year_closed": {
        "zh": (
            "{year} 年度已兑现并关闭，不能再更改其月份（{period}）",
            '如确需更改，先运行 ledger-batch reopen {year} --reason "原因"',
        ),
        "en": (
            "assessment year {year} is paid out and closed; {period} cannot change",
            'if it must change, run ledger-batch reopen {year} --reason "why" first',
        ),
    },
    "year_not_closed": {
        "zh": ("{year} 年度没有关闭", "无需重新打开"),
        "en": ("assessment year {year} is not closed", "nothing to reopen"),
    },
    "reason_required": {
        "zh": ("必须写明原因", '加上 --reason "原因"'),
        "en": ("a reason is required", 'pass --reason "why"'),
    },
    "cannot_write": {
        "zh": (
            "无法写入 {path}：{reason}",
            "腾出磁盘空间（或在 Excel 中关闭此文件）后重新运行；原有的文件没有被改动",
        ),
        "en": (
            "could not write {path}: {reason}",
            "free disk space (or close the file in Excel) and run the command again; the "
            "file that was there is unchanged",
        ),
    },
    "workspace_missing": {
        "zh": ("{path} 不是 ledger-batch 工作区", "先运行 ledger-batch init {path}"),
        "en": ("{path} is not a ledger-batch workspace", "run ledger-batch init {path} first"),
    },
    "path_missing": {
        "zh": ("找不到文件 {path}", "检查路径"),
        "en": ("no such file: {path}", "check the path"),
    },
    # --- email ---------------------------------------------------------------------
    "email_sender_missing": {
        "zh": (
            "还没有设置发件地址，邮件未排队",
            "在 ledger-batch.toml 的 [email] 中填写 sender_address，例如 office@example.com",
        ),
        "en": (
            "no sender address is set; nothing was queued",
            "set sender_address in the [email] section of ledger-batch.toml",
        ),
    },
    "email_bad_address": {
        "zh": (
            "{who} 的邮箱“{address}”不能使用（{detail}）；没有任何邮件排队",
            "在{where}中改正该邮箱，然后重新运行",
        ),
        "en": (
            "the address {address!r} of {who} cannot be used ({detail_en}); nothing was queued",
            "correct it in {where_en}, then run again",
        ),
    },
    "email_unsafe_header": {
        "zh": (
            "{what}“{value}”含换行、控制字符或“=?”，不能写入邮件头；没有任何邮件排队",
            "删除这些字符（在{where}中），然后重新运行",
        ),
        "en": (
            "{what_en} {value!r} contains a line break, a control character or '=?' and "
            "cannot go into a mail header; nothing was queued",
            "remove them (in {where_en}), then run again",
        ),
    },
    "email_shared_address": {
        "zh": (
            "{first} 与 {second} 的邮箱都是 {address}：个人邮件会让一人看到另一人的数据；"
            "没有任何邮件排队",
            "在人员名册中为每人填写本人的邮箱",
        ),
        "en": (
            "{first} and {second} share the address {address}: one would see the other's "
            "figures; nothing was queued",
            "give each liaison their own address in the roster",
        ),
    },
    "smtp_password_missing": {
        "zh": (
            "环境变量 {variable} 未设置（SMTP 密码）；未发送任何邮件",
            "运行 send 前设置该变量，例如 PowerShell：$env:{variable}='…'；"
            "bash：export {variable}=…（密码不要写进文件或命令行参数）",
        ),
        "en": (
            "the environment variable {variable} (the SMTP password) is not set; nothing was sent",
            "set it before send, e.g. PowerShell: $env:{variable}='…'; bash: "
            "export {variable}=… (never put the password in a file or on the command line)",
        ),
    },
    "smtp_login_in_clear": {
        "zh": (
            'security = "none" 时不能登录（密码会明文传输）；未发送任何邮件',
            '改用 security = "starttls" 或 "tls"，或清空 smtp_user',
        ),
        "en": (
            'with security = "none" a login would send the password in clear; nothing was sent',
            'use security = "starttls" or "tls", or leave smtp_user blank',
        ),
    },
    "smtp_no_starttls": {
        "zh": (
            "服务器 {host}:{port} 不提供 STARTTLS，而配置要求加密；未以明文发送任何内容",
            '请邮件管理员开启 STARTTLS，或改用隐式 TLS（security = "tls"，端口 465）',
        ),
        "en": (
            "the server {host}:{port} offers no STARTTLS and TLS is required; nothing was "
            "sent in clear",
            "ask the mail administrator to enable STARTTLS, or use implicit TLS "
            '(security = "tls", port 465)',
        ),
    },
    "smtp_tls_failed": {
        "zh": (
            "与 {host}:{port} 建立加密连接失败：{detail}；未发送任何邮件",
            "证书不受信任时在 ca_file 中指定公司的 CA 证书；并核对 smtp_host 与证书上的名称一致",
        ),
        "en": (
            "the TLS connection to {host}:{port} failed: {detail}; nothing was sent",
            "for a company CA set ca_file to its certificate; check that smtp_host is the name "
            "on the server's certificate",
        ),
    },
    "smtp_ca_file": {
        "zh": ("无法读取 CA 证书文件 {path}：{detail}", "核对 ca_file 的路径（PEM 格式）"),
        "en": ("cannot read the CA file {path}: {detail}", "check ca_file (a PEM file)"),
    },
    "smtp_login_failed": {
        "zh": ("服务器拒绝登录 {user}：{detail}；未发送任何邮件", "核对 smtp_user 与 {variable}"),
        "en": (
            "the server refused the login of {user}: {detail}; nothing was sent",
            "check smtp_user and the password in {variable}",
        ),
    },
    "smtp_unreachable": {
        "zh": (
            "无法连接邮件服务器 {host}:{port}：{detail}",
            "核对 smtp_host、smtp_port 与网络；未发出的邮件仍在发件箱，稍后再运行 send",
        ),
        "en": (
            "cannot reach the mail server {host}:{port}: {detail}",
            "check smtp_host, smtp_port and the network; unsent messages stay in the outbox, "
            "run send again later",
        ),
    },
    "send_running": {
        "zh": ("另一个 send 正在发送本工作区的邮件", "等它结束后再运行"),
        "en": ("another send is delivering this workspace's messages", "wait until it ends"),
    },
    "outbox_unknown_key": {
        "zh": ("发件箱中没有 {key}", "使用 status 或 send --dry-run 列出的编号"),
        "en": ("the outbox holds no message {key}", "use a key listed by status or send --dry-run"),
    },
    "outbox_not_resendable": {
        "zh": (
            "{key} 的状态是 {state}，不能用 --resend 重发",
            "--resend 只用于状态为 unknown（结果不明）或 failed（失败）的邮件",
        ),
        "en": (
            "{key} is {state}; --resend does not apply",
            "--resend is for messages that are unknown or failed",
        ),
    },
}


def message_text(code: str, part: str, lang: Lang, params: dict[str, object]) -> str:
    """Fill in the ``what`` or ``fix`` text of ``code`` in ``lang``."""
    entry = MESSAGES.get(code)
    if entry is None:
        return code if part == "what" else ""
    what, fix = entry[lang]
    template = what if part == "what" else fix
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
